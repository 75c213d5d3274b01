"""Segmentation data as it comes: a Pascal VOC folder, images/ and masks/ folders, class names without
colours, label maps, unreadable files."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.data import voc


def load(root, valid="test", **options):
    recipe = Recipe(name="s", dataset="mask-folder", arch="unet", bs=16, valid=valid,
                    data_options={"path": str(root), "augment": "none", **options})
    return build_data(recipe, on="cpu")


def masks_of(dl) -> torch.Tensor:
    return torch.cat([y for _, y in dl.new(shuffle=False, drop_last=False)]).long()


def blocky(seed, n_values, size=(8, 8)):
    return np.random.default_rng(seed).integers(0, n_values, (size[0] // 4, size[1] // 4)).repeat(4, 0).repeat(4, 1)


def save_palette_png(path, mask, colors):
    picture = Image.fromarray(mask.astype(np.uint8), mode="L").convert("P")
    table = [int(c[i: i + 2], 16) for c in colors for i in (1, 3, 5)]
    picture.putpalette(table + [224, 224, 192] * (256 - len(colors)))  # 255: VOC's cream void colour
    picture.save(path)


def voc_tree(root, n=7):
    """A VOC release: 7 images, train.txt lists 0-3, val.txt 4-5, and image 6 is in neither list."""
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    masks = []
    for i in range(n):
        mask = blocky(i, 21)
        mask[0, :] = 255  # a void border row, as VOC draws around objects
        masks.append(mask)
        Image.fromarray(np.full((8, 8, 3), 10 * i, dtype=np.uint8)).save(root / "JPEGImages" / f"2007_{i:06d}.jpg")
        save_palette_png(root / "SegmentationClass" / f"2007_{i:06d}.png", mask, voc.palette())
    for split, items in (("train", range(4)), ("val", range(4, 6))):
        (root / "ImageSets" / "Segmentation" / f"{split}.txt").write_text("".join(f"2007_{i:06d}\n" for i in items))
    return masks


def test_a_voc_folder_reads_its_split_lists_names_and_palette(tmp_path):
    masks = voc_tree(tmp_path / "VOC2012")
    data = load(tmp_path / "VOC2012")
    assert data.classes == voc.CLASSES and data.colors[15] == "#C08080" and data.colors[1] == "#800000"
    assert data.ignore_index == 255
    summary = data.summary()
    assert (summary["n_train"], summary["n_valid"]) == (4, 2)  # image 6 is in no list, so in no split
    assert torch.equal(masks_of(data.dls.valid), torch.from_numpy(np.stack(masks[4:6])).long())
    assert torch.equal(masks_of(data.dls.train).sort(0).values,
                       torch.from_numpy(np.stack(masks[:4])).long().sort(0).values)
    (tmp_path / "VOC2012" / "ImageSets" / "Segmentation" / "val.txt").write_text("2007_000009\n")
    with pytest.raises(FashionsegError, match=r"val.txt names 2 files that do not exist, e.g. .*2007_000009.jpg"):
        load(tmp_path / "VOC2012")


def test_images_and_masks_folders_pair_by_stem_and_names_need_no_colours(tmp_path):
    for split, n in (("train", 6), ("test", 2)):
        (tmp_path / split / "images").mkdir(parents=True)
        (tmp_path / split / "masks").mkdir()
        for i in range(n):
            Image.fromarray(np.full((8, 8, 3), 30 * i, dtype=np.uint8)).save(tmp_path / split / "images" / f"{i}.JPG")
            Image.fromarray(blocky(i, 3).astype(np.uint8)).save(tmp_path / split / "masks" / f"{i}.png")
    data = load(tmp_path, classes=["sky", "wall", "door"])
    assert data.classes == ["sky", "wall", "door"] and len(set(data.colors)) == 3
    assert len(data.test_dl.dataset) == 2
    assert torch.equal(masks_of(data.test_dl), torch.from_numpy(np.stack([blocky(i, 3) for i in range(2)])).long())
    with pytest.raises(FashionsegError, match="needs data_options.classes"):
        load(tmp_path, classes="sky")
    (tmp_path / "test" / "masks" / "1.png").unlink()
    with pytest.raises(FashionsegError, match=r"masks lacks masks for 1 images of .*test/images, e.g. 1\.\*"):
        load(tmp_path, classes=["sky", "wall", "door"])


def test_a_label_map_turns_source_ids_into_classes_and_ignore(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    ids = np.array([[7, 7, 8, 8], [26, 26, 0, 0], [7, 8, 26, 0], [0, 0, 7, 7]], dtype=np.uint8)
    for i in range(4):
        Image.fromarray(np.full((4, 4, 3), 60 * i, dtype=np.uint8)).save(folder / f"{i}.jpg")
        Image.fromarray(ids).save(folder / f"{i}.png")
    options = {"classes": ["road", "sidewalk", "car"], "label_map": {"7": "road", "8": "sidewalk", "26": 2,
                                                                      "0": "ignore"}}
    data = load(tmp_path, valid="0.25", **options)
    expected = np.array([[0, 0, 1, 1], [2, 2, 255, 255], [0, 1, 2, 255], [255, 255, 0, 0]])
    assert (masks_of(data.dls.valid).numpy() == expected).all()
    del options["label_map"]["0"]
    with pytest.raises(FashionsegError, match=r"0.png holds id 0, which data_options.label_map does not map"):
        load(tmp_path, valid="0.25", **options)
    with pytest.raises(FashionsegError, match="unknown class 'cars'"):
        load(tmp_path, valid="0.25", **{**options, "label_map": {"26": "cars"}})


def test_unreadable_pairs_are_listed_together_or_skipped(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    for i in range(5):
        Image.fromarray(np.full((8, 8, 3), 40 * i, dtype=np.uint8)).save(folder / f"{i}.jpg")
        Image.fromarray(blocky(i, 2).astype(np.uint8)).save(folder / f"{i}.png")
    (folder / "1.jpg").write_bytes(b"broken")
    (folder / "3.png").write_bytes(b"broken")
    options = {"classes": ["a", "b"]}
    with pytest.raises(FashionsegError) as info:
        load(tmp_path, valid="0.34", **options)
    assert "2 of 5 images cannot be read" in str(info.value)
    assert str(folder / "1.jpg") in str(info.value) and str(folder / "3.png") in str(info.value)
    data = load(tmp_path, valid="0.34", skip_bad=True, **options)
    assert data.summary()["skipped"] == [str(folder / "1.jpg"), str(folder / "3.png")]
    assert data.summary()["n_train"] + data.summary()["n_valid"] == 3
    json.dumps(data.summary())  # data.json stays JSON
