"""The image-folder data set on small generated folders: layouts, the decode-once cache, errors, training."""
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from helpers.image_folders import LEVELS, class_tree, save

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.data import decode_cache
from fashionseg.engine.trainer import run

def load(root, valid="test", **options):
    recipe = Recipe(name="t", dataset="image-folder", arch="cam-fast-cnn", bs=4, valid=valid,
                    data_options={"path": str(root) if root else None, "image_size": 8, **options})
    return build_data(recipe, on="cpu")


def all_items(data):
    """Every (image mean, label name) pair of the train and valid loaders, undoing normalisation."""
    pairs = []
    for dl in data.dls.loaders:
        for x, y in dl.new(shuffle=False, drop_last=False):
            means = data.denormalize(x).mean((1, 2, 3)) * 255
            pairs += [(float(m), data.classes[int(c)]) for m, c in zip(means, y)]
    return pairs


def assert_labels_match_images(data):
    for mean, name in all_items(data):
        assert abs(mean - LEVELS[name]) < 12, (mean, name)


def test_train_valid_test_folders_load_with_natural_class_order(tmp_path):
    root = class_tree(tmp_path / "d", (("train", 6), ("valid", 2), ("test", 3)))
    data = load(root)
    assert data.classes == ["1", "2", "10"]
    summary = data.summary()
    assert (summary["n_train"], summary["n_valid"], summary["n_test"]) == (18, 6, 9)
    assert summary["test_set"] == "test folder" and data.n_in == 3 and data.input_size == (8, 8)
    assert_labels_match_images(data)


def test_train_only_holds_out_valid_pct_and_tests_on_it(tmp_path):
    data = load(class_tree(tmp_path / "d", (("train", 10),)), valid_pct=0.3)
    summary = data.summary()
    assert (summary["n_train"], summary["n_valid"], summary["n_test"]) == (21, 9, 9)
    assert data.test_is_valid and summary["test_set"].startswith("validation items (0.3")
    assert_labels_match_images(data)


def test_the_hold_out_keeps_each_class_share_and_says_so(tmp_path):
    data = load(class_tree(tmp_path / "d", (("train", 10),)), valid_pct=0.3)
    held = [name for _, name in all_items(data)][-9:]  # the validation loader comes last
    assert sorted(held) == sorted(["1", "2", "10"] * 3)  # 3 of each class's 10, not whatever the draw gives
    assert "stratified by class" in data.summary()["test_set"]
    lonely = class_tree(tmp_path / "e", (("train", 4),))
    save(lonely / "train" / "solo" / "0.png", 250)  # a class of one image cannot be split: a random hold-out
    assert "at random" in load(lonely, valid_pct=0.3).summary()["test_set"]


def test_split_indices_stratifies_only_when_every_class_can_spare_an_item():
    from fashionseg.data import split_indices

    labels = [0] * 80 + [1] * 20
    train, valid = split_indices(100, 0, "0.1", seed=3, labels=labels)
    assert sorted(labels[i] for i in valid) == [0] * 8 + [1] * 2 and len(train) == 90
    assert split_indices(100, 0, "0.1", seed=3, labels=labels) == (train, valid)  # seeded
    assert split_indices(100, 0, "0.1", seed=4, labels=labels)[1] != valid
    assert set(train).isdisjoint(valid) and sorted(train + valid) == list(range(100))
    skewed = [0] * 99 + [1]
    assert split_indices(100, 0, "0.1", seed=3, labels=skewed) == split_indices(100, 0, "0.1", seed=3)


def test_a_valid_folder_refuses_a_hold_out_fraction(tmp_path):
    root = class_tree(tmp_path / "d", (("train", 3), ("valid", 1)))
    with pytest.raises(FashionsegError, match="has a valid folder"):
        load(root, valid="0.2")


def test_grey_images_give_one_channel_and_mixed_give_three(tmp_path):
    grey = class_tree(tmp_path / "grey", grey=True)
    assert load(grey).n_in == 1
    save(grey / "train" / "2" / "rgb.png", LEVELS["2"])
    data = load(grey)
    assert data.n_in == 3 and len(data.stats[0]) == 3
    assert load(grey, channels=1).n_in == 1


def test_csv_of_file_and_label(tmp_path):
    root = tmp_path / "d"
    rows = ["file,label"]
    for name, level in LEVELS.items():
        for i in range(4):
            save(root / "images" / f"{name}-{i}.png", level)
            rows.append(f"images/{name}-{i}.png,{name}")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    data = load(root, csv="labels.csv", valid_pct=0.25)
    assert data.classes == ["1", "2", "10"] and data.summary()["n_train"] == 9
    assert_labels_match_images(data)


def test_labels_from_file_names_by_pattern(tmp_path):
    root = tmp_path / "d"
    for name, level in LEVELS.items():
        for i in range(4):
            save(root / f"{name}_{100 + i}.png", level)
    data = load(root, pattern=r"^(\d+)_", valid_pct=0.25)
    assert data.classes == ["1", "2", "10"] and data.summary()["n_train"] == 9
    assert_labels_match_images(data)


@pytest.fixture
def counted(monkeypatch):
    """Counts images decoded (not merely listed or read from the cache)."""
    calls = []
    real = decode_cache.read_image

    def read_image(path, *args):
        calls.append(path)
        return real(path, *args)

    monkeypatch.setattr(decode_cache, "read_image", read_image)
    return calls


def cache_files(root):
    return sorted(p.name for p in (root / ".fashionseg-cache").iterdir())


def test_decoded_once_then_read_from_the_memory_mapped_cache(tmp_path, counted, capsys):
    root = class_tree(tmp_path / "d")
    load(root)
    assert len(counted) == 18
    out = capsys.readouterr().out  # not a terminal: plain progress lines, then where the cache went
    assert f"decoding 18 images into {root / '.fashionseg-cache'}" in out and "18/18 decoded" in out
    assert "decoded 18 images (3x8x8)" in out
    assert [Path(n).suffix for n in cache_files(root)] == [".json", ".npy"]
    data = load(root)
    assert len(counted) == 18 and capsys.readouterr().out.startswith("image-folder: ")  # nothing decoded
    npy = next((root / ".fashionseg-cache").glob("*.npy"))
    assert str(npy) in Path("/proc/self/maps").read_text()  # batches index the mapped file, not a copy
    assert_labels_match_images(data)


def test_a_changed_or_added_file_invalidates_the_cache(tmp_path, counted):
    root = class_tree(tmp_path / "d")
    load(root)
    first = cache_files(root)
    changed = root / "train" / "2" / "0.png"
    save(changed, LEVELS["10"], (20, 20))  # brighter now, in class 2's folder
    os.utime(changed, ns=(1, 1))
    load(root)
    assert len(counted) == 36 and cache_files(root) != first and len(cache_files(root)) == 2  # old one removed
    save(root / "train" / "1" / "new.png", LEVELS["1"])
    data = load(root)
    assert len(counted) == 36 + 19 and data.summary()["n_valid"] + data.summary()["n_train"] == 19


def test_an_interrupted_decode_leaves_no_cache(tmp_path, monkeypatch):
    root = class_tree(tmp_path / "d")
    real, calls = decode_cache.read_image, []

    def read_image(path, *args):
        calls.append(path)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return real(path, *args)

    monkeypatch.setattr(decode_cache, "read_image", read_image)
    with pytest.raises(KeyboardInterrupt):
        load(root)
    assert cache_files(root) == []


def test_an_unwritable_data_folder_caches_in_the_user_cache(tmp_path, monkeypatch):
    root = class_tree(tmp_path / "d")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(decode_cache.os, "access", lambda path, mode: False)
    load(root)
    (folder,) = (tmp_path / "cache" / "fashionseg" / "image-folder").iterdir()
    assert folder.name.startswith("d-") and len(list(folder.glob("*.npy"))) == 1


def test_cache_option_names_the_folder(tmp_path):
    root = class_tree(tmp_path / "d")
    load(root, cache=str(tmp_path / "elsewhere"))
    assert len(list((tmp_path / "elsewhere").glob("d-*/*.npy"))) == 1


def error_of(root, **options) -> str:
    with pytest.raises(FashionsegError) as info:
        load(root, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_corrupt_and_truncated_images_are_named(tmp_path):
    root = class_tree(tmp_path / "d")
    bad = root / "train" / "2" / "bad.jpg"
    bad.write_bytes(b"not a jpeg at all")
    assert str(bad) in error_of(root)
    bad.unlink()
    good = root / "train" / "10" / "0.png"
    good.write_bytes(good.read_bytes()[:60])
    assert str(good) in error_of(root, channels=3)  # channels given: found while decoding, not by the header scan


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    root = class_tree(tmp_path / "d")
    locked = root / "train" / "1" / "1.png"
    real_open = Image.open

    def refuse(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Image, "open", refuse)
    message = error_of(root, channels=3)
    assert str(locked) in message and "Permission denied" in message


def test_a_decompression_bomb_is_refused_by_name(tmp_path, monkeypatch):
    root = class_tree(tmp_path / "d")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40)
    assert "decompression bomb" in error_of(root, channels=3)
    assert "decompression bomb" in error_of(root)  # found by the header scan of channels="auto"


def test_listing_errors_name_the_file_or_folder(tmp_path):
    root = class_tree(tmp_path / "d")
    (root / "train" / "empty").mkdir()
    assert f"class folder {root / 'train' / 'empty'} holds no images" in error_of(root)
    (root / "train" / "empty").rmdir()
    save(root / "train" / "loose.png", 0)
    assert f"{root / 'train' / 'loose.png'} is not inside a class folder" in error_of(root)
    assert "loose.png does not match data_options.pattern" in error_of(root, pattern=r"^(\d+)\.")
    assert f"{tmp_path / 'nowhere'} is not a folder" in error_of(tmp_path / "nowhere")
    assert "needs data_options.path" in error_of(None)


def test_csv_errors_name_the_row_or_column(tmp_path):
    root = class_tree(tmp_path / "d")
    (root / "labels.csv").write_text("file,label\ntrain/1/0.png,1\ntrain/1/missing.png,1\n")
    assert "line 3 names 'train/1/missing.png'" in error_of(root, csv="labels.csv")
    (root / "labels.csv").write_text("file,class\ntrain/1/0.png,1\n")
    assert "has no 'label' column (header: file, class)" in error_of(root, csv="labels.csv")
    assert "cannot read data_options.csv" in error_of(root, csv="absent.csv")


def test_an_error_stops_the_run_before_its_folder(tmp_path, runs_dir):
    root = class_tree(tmp_path / "d")
    (root / "train" / "2" / "bad.png").write_bytes(b"\x89PNG broken")
    recipe = Recipe(name="t", dataset="image-folder", arch="cam-fast-cnn", data_options={"path": str(root)})
    with pytest.raises(FashionsegError, match="bad.png"):
        run(recipe, runs_dir=runs_dir, console=Console(file=io.StringIO()))
    assert not runs_dir.exists()


@pytest.mark.slow
def test_training_on_a_generated_folder_beats_chance(tmp_path, runs_dir):
    root = class_tree(tmp_path / "d", (("train", 16), ("test", 4)))
    recipe = Recipe(name="folder", dataset="image-folder", arch="cam-fast-cnn",
                    arch_options={"widths": [8, 16]}, metrics=["accuracy"], epochs=3, lr=1e-2, bs=8,
                    data_options={"path": str(root), "image_size": 16})
    result = run(recipe, runs_dir=runs_dir, console=Console(file=io.StringIO()))
    assert result.results["accuracy"] > 0.6  # chance is 1/3
    summary = json.loads((result.run.path / "data.json").read_text())
    assert summary["classes"] == ["1", "2", "10"] and summary["n_in"] == 3 and summary["image_size"] == [16, 16]


def test_valid_pct_must_be_a_fraction(tmp_path):
    root = class_tree(tmp_path / "d")
    assert "valid_pct must be a fraction in (0, 1), not 'half'" in error_of(root, valid_pct="half")
    assert "not 1.5" in error_of(root, valid_pct=1.5)


def test_statistics_are_those_of_the_training_images_at_the_given_size(tmp_path):
    from fashionseg.data.image_folder import list_images
    from fashionseg.data.stats import channel_stats

    root = class_tree(tmp_path / "d", (("train", 4), ("test", 2)))
    data = load(root, image_size=[6, 10])
    assert data.input_size == (6, 10)
    listing = list_images({"path": str(root), "train": "train", "valid": "valid", "test": "test"})
    decoded = decode_cache.decoded_images(root, listing.files, (6, 10), "auto", listing.n_train)
    assert not decoded.decoded and decoded.images.shape == (18, 3, 6, 10)
    expected = channel_stats(decoded.images[: listing.n_train])
    assert np.allclose(data.stats, expected) and not np.allclose(data.stats, channel_stats(decoded.images))


def test_an_unwritable_cache_folder_is_one_error_and_a_damaged_cache_is_decoded_again(tmp_path, counted):
    root = class_tree(tmp_path / "d")
    (tmp_path / "file").write_text("not a folder")
    assert "cannot write the decoded images to" in error_of(root, cache=str(tmp_path / "file"))
    load(root)
    npy = next((root / ".fashionseg-cache").glob("*.npy"))
    npy.write_bytes(npy.read_bytes()[:100])
    before = len(counted)
    assert_labels_match_images(load(root))
    assert len(counted) == before + 18


def test_skip_bad_trains_without_the_unreadable_files_and_lists_them(tmp_path):
    root = class_tree(tmp_path / "d", (("train", 6), ("test", 2)))
    bad = [root / "train" / "2" / "bad.jpg", root / "test" / "1" / "bad.png"]
    for path in bad:
        path.write_bytes(b"broken")
    message = error_of(root)
    assert all(str(path) in message for path in bad)  # every bad file in one error, not one per run
    data = load(root, skip_bad=True)
    summary = data.summary()
    assert summary["skipped"] == sorted(map(str, bad), key=lambda p: "test" in p)
    assert (summary["n_train"], summary["n_valid"]) == (18, 6)  # the bad ones are in no split
    assert_labels_match_images(data)


def test_an_imagenet_style_val_folder_validates_and_the_log_says_so(tmp_path, capsys):
    root = class_tree(tmp_path / "d", (("train", 4), ("val", 2)))
    data = load(root)
    assert (data.summary()["n_train"], data.summary()["n_valid"]) == (12, 6)
    assert data.summary()["test_set"] == "valid folder"
    out = capsys.readouterr().out
    assert f"training images from {root / 'train'}, validation images from {root / 'val'}" in out


def test_classes_chooses_a_subset_of_the_class_folders(tmp_path):
    root = class_tree(tmp_path / "d", (("train", 4), ("test", 2)))
    data = load(root, classes=["10", "1"])
    assert data.classes == ["1", "10"]
    assert (data.summary()["n_train"], data.summary()["n_valid"]) == (8, 4)
    assert_labels_match_images(data)
    assert "unknown class '100'. Did you mean '10'" in error_of(root, classes=["100"])
