"""Image/mask folders: class-index and colour-table masks, splits, joint augmentation, Mini Facade."""
import random

import numpy as np
import pytest
import torch
from PIL import Image
from helpers.data import need_data

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.data import split_indices
from fashionseg.data.mask_folder import MaskFormat, load_folder

FACADE = ["#000000", "#0080FF", "#80FF80", "#FF8000", "#FF0000"]
LAND_COVER = {"urban": "#00FFFF", "agriculture": "#FFFF00", "rangeland": "#FF00FF", "forest": "#00FF00",
              "water": "#0000FF", "barren": "#FFFFFF", "unknown": "#000000"}


def random_masks(n, n_classes, size=(12, 10), seed=0):
    return np.random.default_rng(seed).integers(0, n_classes, (n, *size)).astype(np.uint8)


def write_pairs(folder, masks, style="palette", colors=FACADE, image_suffix=".jpg", mask_suffix=".png"):
    """Images (JPEG) and masks: palette PNG, grey PNG, or RGB PNG in the given colours."""
    folder.mkdir(parents=True, exist_ok=True)
    table = np.array([[int(c[i: i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype=np.uint8)
    for i, mask in enumerate(masks):
        Image.fromarray(table[mask]).save(folder / f"{i:04d}{image_suffix}")
        if style == "rgb":
            Image.fromarray(table[mask]).save(folder / f"{i:04d}{mask_suffix}")
        else:
            picture = Image.fromarray(mask, mode="L")
            if style == "palette":
                picture = picture.convert("P")
                picture.putpalette(table.flatten().tolist())
            picture.save(folder / f"{i:04d}{mask_suffix}")


@pytest.mark.parametrize("style", ["palette", "grey"])
def test_index_masks_decode_to_their_class_indices(tmp_path, style):
    masks = random_masks(3, 5)
    write_pairs(tmp_path, masks, style)
    pairs = load_folder(str(tmp_path), MaskFormat(tuple(FACADE)))
    assert pairs.images.shape == (3, 3, 12, 10) and pairs.images.dtype == torch.uint8
    assert torch.equal(pairs.masks, torch.from_numpy(masks))
    assert pairs.names == ["0000", "0001", "0002"]


def test_rgb_masks_decode_through_the_colour_table(tmp_path):
    masks = random_masks(2, 7)
    write_pairs(tmp_path, masks, "rgb", list(LAND_COVER.values()), "_sat.jpg", "_mask.png")
    fmt = MaskFormat(tuple(LAND_COVER.values()), "colors")
    pairs = load_folder(str(tmp_path), fmt, "_sat.jpg", "_mask.png")
    assert torch.equal(pairs.masks, torch.from_numpy(masks))


def test_unknown_colour_is_an_error_and_tolerance_snaps_near_colours(tmp_path):
    mask = np.zeros((4, 4, 3), dtype=np.uint8)
    mask[1, 2] = (3, 250, 2)  # near forest #00FF00
    Image.fromarray(mask).save(tmp_path / "a.png")
    Image.fromarray(mask).save(tmp_path / "a.jpg")
    with pytest.raises(FashionsegError, match=r"#03FA02 \(pixel 2,1\)"):
        load_folder(str(tmp_path), MaskFormat(tuple(LAND_COVER.values()), "colors"))
    pairs = load_folder(str(tmp_path), MaskFormat(tuple(LAND_COVER.values()), "colors", tolerance=8))
    assert pairs.masks[0, 1, 2] == 3 and pairs.masks[0, 0, 0] == 6


def test_bad_folders_are_one_line_errors(tmp_path):
    write_pairs(tmp_path / "ok", random_masks(1, 5))
    with pytest.raises(FashionsegError, match="class index"):
        load_folder(str(tmp_path / "ok"), MaskFormat(("#000000", "#FFFFFF")))
    (tmp_path / "ok" / "0000.png").unlink()
    with pytest.raises(FashionsegError, match="lacks 1 masks, e.g. 0000.png"):
        load_folder(str(tmp_path / "ok"), MaskFormat(tuple(FACADE)))
    write_pairs(tmp_path / "mixed", random_masks(1, 5))
    write_pairs(tmp_path / "other", random_masks(1, 5, size=(8, 8)))
    (tmp_path / "other" / "0000.jpg").rename(tmp_path / "mixed" / "0001.jpg")
    (tmp_path / "other" / "0000.png").rename(tmp_path / "mixed" / "0001.png")
    with pytest.raises(FashionsegError, match="image_size"):
        load_folder(str(tmp_path / "mixed"), MaskFormat(tuple(FACADE)))
    resized = load_folder(str(tmp_path / "mixed"), MaskFormat(tuple(FACADE)), size=(8, 6))
    assert resized.masks.shape == (2, 8, 6)


def test_a_decoding_error_leaves_no_progress_display_running(tmp_path):
    """The decoding bar stops when an error ends the decoding, not when the garbage collector later finalizes
    it in whichever thread runs (which deadlocked rich's console lock under another live display)."""
    import threading

    def rich_threads():
        return {t for t in threading.enumerate() if type(t).__module__.startswith("rich")}

    write_pairs(tmp_path / "mixed", random_masks(3, 5))
    write_pairs(tmp_path / "other", random_masks(1, 5, size=(8, 8)))
    (tmp_path / "other" / "0000.jpg").rename(tmp_path / "mixed" / "0001.jpg")  # the second pair: another size
    (tmp_path / "other" / "0000.png").rename(tmp_path / "mixed" / "0001.png")
    before = rich_threads()
    with pytest.raises(FashionsegError, match="image_size") as raised:
        load_folder(str(tmp_path / "mixed"), MaskFormat(tuple(FACADE)))
    assert raised.traceback  # the error's traceback still holds the decoding frame and its bar
    assert rich_threads() == before


def land_cover_recipe(root, **changes):
    options = {"path": str(root), "classes": LAND_COVER, "masks": "colors",
               "image_suffix": "_sat.jpg", "mask_suffix": "_mask.png", **changes.pop("data_options", {})}
    return Recipe(name="land", dataset="mask-folder", arch="unet", data_options=options,
                  **{"bs": 4, "valid": "0.25", **changes})


def test_mask_folder_data_set_with_and_without_a_test_folder(tmp_path):
    colors = list(LAND_COVER.values())
    write_pairs(tmp_path / "train", random_masks(8, 7), "rgb", colors, "_sat.jpg", "_mask.png")

    def factory(recipe):
        return build_data(recipe, on="cpu")

    data = factory(land_cover_recipe(tmp_path))
    assert data.test_is_valid and data.classes == list(LAND_COVER) and data.colors == colors
    x, y = data.dls.train.one_batch()
    assert x.shape == (4, 3, 12, 10) and y.shape == (4, 12, 10) and int(y.max()) < 7
    assert len(data.dls.valid.dataset) == 2
    write_pairs(tmp_path / "test", random_masks(3, 7, seed=1), "rgb", colors, "_sat.jpg", "_mask.png")
    data = factory(land_cover_recipe(tmp_path))
    assert not data.test_is_valid and len(data.test_dl.dataset) == 3
    with pytest.raises(FashionsegError, match="not colour"):
        factory(land_cover_recipe(tmp_path, data_options={"colour": 1}))


@pytest.mark.parametrize("augment", ["fastai", "flip-shift4", "crop0.6-colour0.2"])
def test_augmentation_moves_image_and_mask_together(tmp_path, augment):
    block = random_masks(1, 2, size=(8, 8))[0] * 5  # classes 0 (black) and 5 (white) in 4x4 blocks
    mask = np.kron(block, np.ones((4, 4), dtype=np.uint8))
    write_pairs(tmp_path / "train", [mask] * 8, "rgb", list(LAND_COVER.values()), "_sat.jpg", "_mask.png")
    recipe = land_cover_recipe(tmp_path, data_options={"augment": augment}, bs=7, valid="0.125")
    data = build_data(recipe, on="cpu")
    torch.manual_seed(0)
    random.seed(0)
    x, y = data.dls.train.one_batch()
    changed = [not torch.equal(m, torch.from_numpy(mask).long()) for m in y]
    assert any(changed)
    gray = data.denormalize(x).mean(1)  # lighting changes shift levels but keep white above black
    lo, hi = gray.amin((1, 2), keepdim=True), gray.amax((1, 2), keepdim=True)
    bright = gray > (lo + hi) / 2
    assert (bright == (y == 5)).float().mean() > 0.97  # the mask follows the image's geometry


def test_valid_ranges_hold_out_those_items():
    train, valid, test = split_indices(906, 114, "250-350", seed=0)
    assert valid == list(range(250, 350)) and len(train) == 806 and test[0] == 906
    assert not set(train) & set(valid)
    with pytest.raises(FashionsegError):
        split_indices(100, 0, "50-150", seed=0)
    with pytest.raises(FashionsegError, match="range such as 250-350"):
        Recipe(name="x", dataset="mini-facade", arch="unet", valid="350-250")


def test_train_items_keep_the_reports_training_pairs_only():
    """The facade report's protocol: pairs 0-249 train, 250-349 validate, test_dev tests."""
    train, valid, test = split_indices(906, 114, "250-350", seed=0, train_items="0-250")
    assert train == list(range(250)) and valid == list(range(250, 350)) and len(test) == 114
    train, test = split_indices(100, 20, "test", seed=0, train_items="10-30", limit=5)
    assert len(train) == 5 and all(10 <= i < 30 for i in train)
    with pytest.raises(FashionsegError, match="reaches past the 100 training items"):
        split_indices(100, 0, "0.1", seed=0, train_items="50-150")
    with pytest.raises(FashionsegError, match="leaves no training items in train_items=250-350"):
        split_indices(906, 0, "250-350", seed=0, train_items="250-350")
    with pytest.raises(FashionsegError, match="train_items must be a range"):
        Recipe(name="x", dataset="mini-facade", arch="unet", train_items="the first 250")


@pytest.mark.slow
def test_mini_facade_decodes_like_its_readme():
    root = need_data("mini-facade", ["train", "test_dev"])
    recipe = Recipe(name="f", dataset="mini-facade", arch="unet", valid="250-350", data_options={"path": str(root)})
    data = build_data(recipe, on="cpu")
    assert data.classes == ["others", "facade", "pillar", "window", "balcony"] and data.colors == FACADE
    assert [len(dl.dataset) for dl in data.dls.loaders] == [806, 100, 114]
    train = load_folder(str(root / "train"), MaskFormat(tuple(FACADE)), ".jpg", ".png", 3, None)  # cached
    assert train.images.shape == (906, 3, 256, 256)
    share = torch.bincount(train.masks.flatten().long(), minlength=5) / train.masks.numel()
    assert share.tolist() == pytest.approx([0.355, 0.406, 0.024, 0.165, 0.051], abs=0.002)


def test_missing_mini_facade_says_where_it_looked(no_data_anywhere):
    recipe = Recipe(name="f", dataset="mini-facade", arch="unet")
    with pytest.raises(FashionsegError, match=r"looked in .*data/mini-facade.*cache/fashionseg/mini-facade"):
        build_data(recipe, on="cpu")
