"""COCO instances_*.json as semantic masks through pycocotools: categories in id order, smaller objects on
top, crowd regions left out, masks made once."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.data import coco

pytest.importorskip("pycocotools")


def rle(binary: np.ndarray) -> dict:
    from pycocotools import mask

    encoded = mask.encode(np.asfortranarray(binary.astype(np.uint8)))
    return {"size": encoded["size"], "counts": encoded["counts"].decode()}


def box(top, left, bottom, right, size=16):
    binary = np.zeros((size, size), dtype=bool)
    binary[top:bottom, left:right] = True
    return binary


def write_coco(root, split, n):
    """n 16x16 images, each with a big dog, a small cat on it, and a crowd of dogs along the bottom rows."""
    (root / f"{split}2017").mkdir(parents=True)
    (root / "annotations").mkdir(exist_ok=True)
    images, anns = [], []
    for i in range(n):
        Image.fromarray(np.full((16, 16, 3), 20 * i, dtype=np.uint8)).save(root / f"{split}2017" / f"{i:012d}.jpg")
        images.append({"id": 100 + i, "file_name": f"{i:012d}.jpg", "height": 16, "width": 16})
        for shape, cat, crowd in ((box(0, 0, 12, 12), 7, 0), (box(4, 4, 8, 8), 3, 0), (box(12, 0, 16, 16), 7, 1)):
            anns.append({"id": len(anns) + 1, "image_id": 100 + i, "category_id": cat, "iscrowd": crowd,
                         "area": int(shape.sum()), "bbox": [0, 0, 1, 1], "segmentation": rle(shape)})
    categories = [{"id": 7, "name": "dog", "supercategory": "animal"}, {"id": 3, "name": "cat", "supercategory": "animal"}]
    (root / "annotations" / f"instances_{split}2017.json").write_text(
        json.dumps({"images": images, "annotations": anns, "categories": categories}))


def expected_mask():
    mask = np.zeros((16, 16), dtype=np.int64)
    mask[:12, :12] = 2  # dog (category id 7: second in id order)
    mask[4:8, 4:8] = 1  # the smaller cat painted over the dog
    mask[12:, :] = 255  # the crowd is left out
    return mask


def test_coco_annotations_become_semantic_masks_once(tmp_path, monkeypatch):
    write_coco(tmp_path, "train", 4)
    write_coco(tmp_path, "val", 2)
    recipe = Recipe(name="c", dataset="mask-folder", arch="unet", bs=8,
                    data_options={"path": str(tmp_path), "augment": "none"})
    data = build_data(recipe, on="cpu")
    assert data.classes == ["background", "cat", "dog"] and data.ignore_index == 255
    assert (data.summary()["n_train"], data.summary()["n_valid"]) == (4, 2)  # val2017 validates
    ys = torch.cat([y for _, y in data.dls.valid.new(shuffle=False)])
    assert (ys.long().numpy() == expected_mask()).all()
    made = list((tmp_path / ".fashionseg-cache").glob("coco-instances_train2017-*/*.png"))
    assert len(made) == 4
    monkeypatch.setattr(coco, "write_masks", lambda *a: pytest.fail("masks made again"))
    from fashionseg.data import mask_folder

    mask_folder.load_pairs.cache_clear()
    build_data(recipe, on="cpu")  # a second run reads the masks already made


def test_coco_errors_name_the_file(tmp_path):
    write_coco(tmp_path, "train", 2)
    (tmp_path / "train2017").rename(tmp_path / "elsewhere")
    recipe = Recipe(name="c", dataset="mask-folder", arch="unet", valid="0.5",
                    data_options={"path": str(tmp_path), "augment": "none"})
    with pytest.raises(FashionsegError, match=r"train2017 is missing: the images of instances_train2017.json"):
        build_data(recipe, on="cpu")
