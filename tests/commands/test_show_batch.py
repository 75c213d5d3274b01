"""`fashionseg show-batch`: a PNG of augmented training items before any training, masks in the class colours."""
import matplotlib.pyplot as plt
import numpy as np
from helpers.image_folders import class_tree
from helpers.seg_folders import CLASSES, folder_options, make_root
from matplotlib.colors import to_rgba
from PIL import Image

from fashionseg import Recipe
from fashionseg.build.learner import build_data
from fashionseg.cli import main
from fashionseg.report.figures import batch_figure


def recipe_file(tmp_path, recipe: Recipe):
    path = tmp_path / f"{recipe.name}.py"
    fields = {k: v for k, v in recipe.to_dict().items() if k in ("name", "dataset", "arch", "valid", "data_options")}
    path.write_text(f"from fashionseg import Recipe\nrecipe = Recipe(**{fields!r})\n")
    return path


def seg_recipe(tmp_path, augment="segment"):
    root = make_root(tmp_path / "seg")
    return Recipe(name="seg", dataset="mask-folder", arch="facade-fcn", valid="0.25",
                  data_options=folder_options(root, augment=augment, ignore_index=255))


def test_masks_are_drawn_over_their_images_in_the_class_colours(tmp_path):
    data = build_data(seg_recipe(tmp_path).override(bs=4), on="cpu")
    fig = batch_figure(data, 4, "title")
    drawn = [ax.get_images() for ax in fig.axes if ax.get_images()]
    assert len(drawn) == 4 and all(len(layers) == 2 for layers in drawn)  # the image, then its mask
    mask = drawn[0][1]
    assert [to_rgba(c) for c in mask.get_cmap().colors] == [to_rgba(c) for c in CLASSES.values()]
    assert mask.get_cmap().get_over()[3] == 0  # void (255) is left clear
    plt.close(fig)


def test_show_batch_writes_a_png_for_segmentation_and_classification(tmp_path, capsys):
    seg = recipe_file(tmp_path, seg_recipe(tmp_path))
    assert main(["show-batch", str(seg), "--n", "4", "--out", str(tmp_path / "seg.png")]) == 0
    assert "seg.png" in capsys.readouterr().out
    cls = recipe_file(tmp_path, Recipe(name="cls", dataset="image-folder", arch="seed000-cnn", data_options={
        "path": str(class_tree(tmp_path / "cls", splits=(("train", 6), ("test", 2)))), "augment": "classify"}))
    assert main(["show-batch", str(cls), "--n", "6", "--out", str(tmp_path / "cls.png")]) == 0
    for name in ("seg.png", "cls.png"):
        image = np.asarray(Image.open(tmp_path / name))
        assert image.shape[0] > 100 and image.std() > 0


def test_asking_for_more_items_than_training_has_is_one_error_and_no_file(tmp_path, capsys):
    seg = recipe_file(tmp_path, seg_recipe(tmp_path, augment="flip"))
    assert main(["show-batch", str(seg), "--n", "50", "--out", str(tmp_path / "x.png")]) == 2
    assert "ask for that many or fewer" in capsys.readouterr().err and not (tmp_path / "x.png").exists()
