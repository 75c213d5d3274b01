"""Hugging Face data sets, saved with save_to_disk or as parquet, read offline and written out once."""
import numpy as np
import pytest
import torch
from PIL import Image

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.data import hf_datasets

datasets = pytest.importorskip("datasets")
LEVELS = {"dark": 30, "mid": 120, "light": 220}


def pictures(levels, side=6):
    return [Image.fromarray(np.full((side, side, 3), level, dtype=np.uint8)) for level in levels]


def classification_set(n):
    names = list(LEVELS)
    labels = [i % 3 for i in range(n)]
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=names)})
    return datasets.Dataset.from_dict({"image": pictures(LEVELS[names[y]] for y in labels), "label": labels},
                                      features=features)


def test_a_saved_dataset_dict_classifies_with_its_splits_and_writes_images_once(tmp_path, monkeypatch):
    root = tmp_path / "hf"
    datasets.DatasetDict({"train": classification_set(9), "validation": classification_set(3),
                          "test": classification_set(6)}).save_to_disk(str(root))
    recipe = Recipe(name="h", dataset="image-folder", arch="cam-fast-cnn", bs=32,
                    data_options={"path": str(root), "augment": "none"})
    data = build_data(recipe, on="cpu")
    summary = data.summary()
    assert sorted(data.classes) == sorted(LEVELS) and (summary["n_train"], summary["n_valid"], summary["n_test"]) == (9, 3, 6)
    for dl in data.dls.loaders:
        for x, y in dl.new(shuffle=False):
            means = data.denormalize(x).mean((1, 2, 3)) * 255
            assert all(abs(float(m) - LEVELS[data.classes[int(c)]]) < 2 for m, c in zip(means, y))
    monkeypatch.setattr(hf_datasets.os, "replace", lambda *a: pytest.fail("written out again"))
    build_data(recipe, on="cpu")


def test_parquet_with_image_and_mask_columns_is_segmentation_data(tmp_path):
    rng = np.random.default_rng(0)
    masks = [rng.integers(0, 3, (2, 2)).repeat(4, 0).repeat(4, 1).astype(np.uint8) for _ in range(6)]
    features = datasets.Features({"image": datasets.Image(), "mask": datasets.Image()})
    table = {"image": pictures(range(0, 60, 10), side=8), "mask": [Image.fromarray(m) for m in masks]}
    (tmp_path / "pq").mkdir()
    full = datasets.Dataset.from_dict(table, features=features)
    full.select(range(4)).to_parquet(str(tmp_path / "pq" / "train-00000-of-00001.parquet"))
    full.select(range(4, 6)).to_parquet(str(tmp_path / "pq" / "test-00000-of-00001.parquet"))
    recipe = Recipe(name="h", dataset="mask-folder", arch="unet", bs=8,
                    data_options={"path": str(tmp_path / "pq"), "classes": ["a", "b", "c"], "augment": "none"})
    data = build_data(recipe, on="cpu")
    assert (data.summary()["n_train"], data.summary()["n_valid"]) == (4, 2)
    ys = torch.cat([y for _, y in data.test_dl.new(shuffle=False)])
    assert torch.equal(ys.long(), torch.from_numpy(np.stack(masks[4:])).long())


def test_a_dataset_without_a_label_column_says_which_columns_it_has(tmp_path):
    datasets.Dataset.from_dict({"image": pictures([1, 2]), "caption": ["a", "b"]},
                               features=datasets.Features({"image": datasets.Image(), "caption": datasets.Value("string")})
                               ).save_to_disk(str(tmp_path / "hf"))
    recipe = Recipe(name="h", dataset="image-folder", arch="cam-fast-cnn", data_options={"path": str(tmp_path / "hf")})
    with pytest.raises(FashionsegError, match=r"has no label column \(columns: image, caption\)"):
        build_data(recipe, on="cpu")
