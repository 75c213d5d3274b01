"""Multi-label CSVs on generated images whose colour channels are their tags: both layouts read into 0/1
targets, mistakes named in one line, and a tag CSV never turned into one class per tag combination."""
import pytest
import torch
from helpers.tagged_images import TAGS, tag_sets, tagged_folder

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.cli import main as cli_main


def load(root, **options):
    recipe = Recipe(name="t", dataset="multi-label-csv", arch="cam-fast-cnn", bs=4,
                    data_options={"path": str(root), "csv": "labels.csv", "image_size": 8, **options})
    return build_data(recipe, on="cpu")


def tags_of_every_item(data):
    """(tags read off the image's bright channels, tags the targets give) for every train and valid item."""
    pairs = []
    for dl in data.dls.loaders:
        for x, y in dl.new(shuffle=False, drop_last=False):
            channels = data.denormalize(x).mean((2, 3)) * 255  # (B, 3): red, green, blue
            for lit, target in zip(channels > 115, y):
                pairs.append(({t for t, on in zip(TAGS, lit.tolist()) if on},
                              {data.classes[j] for j in torch.nonzero(target).flatten().tolist()}))
    return pairs


@pytest.mark.parametrize("layout, separator", [("labels", " "), ("labels", "|"), ("columns", None)])
def test_both_csv_layouts_give_each_image_its_tags(tmp_path, layout, separator):
    data = load(tagged_folder(tmp_path / "d", 24, layout, separator or " "))
    assert data.task == "multi-label" and data.classes == ["blue", "green", "red"]
    pairs = tags_of_every_item(data)
    assert len(pairs) == 24 and all(lit == given for lit, given in pairs)
    assert sum(not given for _, given in pairs) == 3  # images without a tag are kept, as negatives
    summary = data.summary()
    assert (summary["n_train"], summary["n_valid"], summary["thresholds"]) == (19, 5, [0.5, 0.5, 0.5])


def test_a_split_column_sets_each_images_split(tmp_path):
    """`split` (train/valid/test, in any order in the CSV): the listed items, each with its own tags, go to that
    split; the test set is the test rows, not a hold-out."""
    root = tagged_folder(tmp_path / "d", 24, "columns")
    lines = (root / "labels.csv").read_text().splitlines()
    chosen = {i: ("test" if i % 4 == 0 else "valid" if i % 4 == 1 else "train") for i in range(24)}
    (root / "labels.csv").write_text("\n".join([lines[0] + ",split"] + [f"{line},{chosen[i]}"
                                                                       for i, line in enumerate(lines[1:])]) + "\n")
    data = load(root)
    summary = data.summary()
    assert (summary["n_train"], summary["n_valid"]) == (12, 6) and data.extra["test_set"] == "test folder"
    assert len(data.test_dl.dataset) == 6
    test_pairs = []
    for x, y in data.test_dl:
        lit = data.denormalize(x).mean((2, 3)) * 255 > 115
        test_pairs += [({t for t, on in zip(TAGS, row.tolist()) if on},
                        {data.classes[j] for j in torch.nonzero(target).flatten().tolist()}) for row, target in zip(lit, y)]
    assert [given for _, given in test_pairs] == [set(tag_sets(24)[i]) for i in range(0, 24, 4)]
    assert all(lit == given for lit, given in test_pairs + tags_of_every_item(data))
    (root / "labels.csv").write_text(lines[0] + ",split\n" + lines[1] + ",holdout\n")
    with pytest.raises(FashionsegError, match="line 2 has split 'holdout'; the split column holds train, valid, test"):
        load(root)


def test_thresholds_per_tag_by_list_mapping_or_tune(tmp_path):
    root = tagged_folder(tmp_path / "d", 16)
    assert load(root, threshold=0.3).summary()["thresholds"] == [0.3] * 3
    assert load(root, threshold={"red": 0.7}).summary()["thresholds"] == [0.5, 0.5, 0.7]  # sorted: blue green red
    assert load(root, threshold=[0.2, 0.4, 0.6]).summary()["thresholds"] == [0.2, 0.4, 0.6]
    assert load(root, threshold="tune").summary()["thresholds"] == "tune"


@pytest.mark.parametrize("csv, options, message", [
    ("file,labels\nimages/0.png,red\nimages/9.png,blue\n", {}, "line 3 names 'images/9.png', which is not a file"),
    ("name,labels\nimages/0.png,red\n", {}, "has no 'file' column (header: name, labels)"),
    ("file,red,green\nimages/0.png,1,2\n", {}, "line 2 has '2' in tag column 'green'; tag columns hold 0 or 1"),
    ("file,labels\nimages/0.png,\n", {}, "gives no image a tag"),
    ("file,labels\nimages/0.png,red green\n", {"threshold": [0.5]}, "one per tag (2: green, red)"),
    ("file,labels\nimages/0.png,red green\n", {"threshold": {"pink": 0.5}}, "names pink, which are not tags"),
    ("file,labels\nimages/0.png,red green\n", {"threshold": 1.5}, "must be a probability in (0, 1)"),
])
def test_csv_mistakes_are_named_in_one_error(tmp_path, csv, options, message):
    root = tagged_folder(tmp_path / "d", 4)
    (root / "labels.csv").write_text(csv)
    with pytest.raises(FashionsegError) as caught:
        load(root, **options)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def image_folder_recipe(root) -> Recipe:
    return Recipe(name="t", dataset="image-folder", arch="cam-fast-cnn", bs=4,
                  data_options={"path": str(root), "csv": "labels.csv", "image_size": 8})


@pytest.mark.parametrize("layout, separator, why", [
    ("labels", " ", "its header has a 'labels' column"),
    ("columns", None, "its columns other than file are 0/1 tags"),
])
def test_classification_refuses_a_tag_csv_instead_of_a_power_set(tmp_path, layout, separator, why):
    root = tagged_folder(tmp_path / "d", 8, layout, separator or " ")
    with pytest.raises(FashionsegError, match="train the multi-label task instead: --dataset multi-label-csv") as e:
        build_data(image_folder_recipe(root), on="cpu")
    assert why in str(e.value)


def test_a_label_cell_of_several_tags_is_refused_with_its_line(tmp_path):
    root = tagged_folder(tmp_path / "d", 8)
    rows = [f"images/{i}.png,{'|'.join(tags) or 'none'}" for i, tags in enumerate(tag_sets(8))]
    (root / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(FashionsegError, match=r"line 5 holds several tags \('red\|green'\)\); classification takes "
                                              r"one class per image"):
        build_data(image_folder_recipe(root), on="cpu")


def test_the_cli_refuses_a_tag_csv_in_one_line_before_any_run_folder(tmp_path, capsys):
    root = tagged_folder(tmp_path / "d", 8)
    code = cli_main(["train", "folder-resnet101", "--arch", "cam-fast-cnn", "--runs-dir", str(tmp_path / "runs"),
                     "--set", f"data_options.path={root}", "--set", "data_options.csv=labels.csv"])
    err = capsys.readouterr().err
    assert code == 2 and "--dataset multi-label-csv" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
