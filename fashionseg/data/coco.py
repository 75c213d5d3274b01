"""COCO instance annotations (`annotations/instances_<split>.json`) as semantic masks, through pycocotools.

Each pixel takes the category of the object covering it; where objects overlap the smaller one wins
(objects are painted largest first), and `iscrowd` regions not covered by another object are left out
(the ignore value; with no ignore value they stay background). Class 0 is `background`, then the categories in id order. The masks are made once,
as PNGs in the data folder's cache, and read like any mask folder.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from fashionseg.errors import FashionsegError


def annotation_file(root: Path, split: str) -> Path | None:
    """`annotations/instances_<split>*.json` under `root` (e.g. instances_train2017.json), if there is one."""
    found = sorted((Path(root) / "annotations").glob(f"instances_{split}*.json"))
    return found[0] if found else None


def is_coco(root: Path) -> bool:
    return annotation_file(root, "") is not None


def coco_api(annotations: Path):
    """pycocotools' index of one annotation file (its loading chatter silenced)."""
    try:
        from pycocotools.coco import COCO
    except ImportError:
        raise FashionsegError("reading COCO annotations needs pycocotools: pip install 'fashionseg[coco]'") from None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(annotations))
    except (OSError, ValueError, KeyError) as exc:
        raise FashionsegError(f"{annotations} is not a COCO annotation file that can be read: {exc}") from None


def class_names(api) -> list[str]:
    return ["background", *(c["name"] for c in sorted(api.loadCats(api.getCatIds()), key=lambda c: c["id"]))]


def coco_pairs(root: Path, split: str, cache: Path, ignore: int | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(image, mask) file pairs of one split and the class names; masks are made into `cache` once."""
    annotations = annotation_file(root, split)
    if annotations is None:
        raise FashionsegError(f"{Path(root) / 'annotations'} has no instances_{split}*.json")
    images_dir = Path(root) / annotations.stem.removeprefix("instances_")
    if not images_dir.is_dir():
        raise FashionsegError(f"{images_dir} is missing: the images of {annotations.name} belong there")
    api = coco_api(annotations)
    stat = annotations.stat()
    folder = cache / f"coco-{annotations.stem}-{stat.st_size}-{stat.st_mtime_ns}-{ignore}"
    images = [api.imgs[i] for i in sorted(api.imgs)]
    if not folder.is_dir():
        write_masks(api, images, folder, ignore)
    return [(str(images_dir / img["file_name"]), str(folder / f"{img['id']}.png")) for img in images], class_names(api)


def write_masks(api, images: list[dict], folder: Path, ignore: int | None):
    """Every image's semantic mask as a grey PNG, into a temporary folder renamed into place when complete."""
    index = {cat: i + 1 for i, cat in enumerate(sorted(api.getCatIds()))}
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for img in images:
            Image.fromarray(semantic_mask(api, img, index, ignore)).save(tmp / f"{img['id']}.png")
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def semantic_mask(api, img: dict, index: dict, ignore: int | None) -> np.ndarray:
    """Crowd regions first (as `ignore`), then objects largest first, so smaller objects stay on top."""
    mask = np.zeros((img["height"], img["width"]), dtype=np.uint8)
    anns = api.loadAnns(api.getAnnIds(imgIds=[img["id"]], iscrowd=None))
    if ignore is not None:
        for ann in (a for a in anns if a.get("iscrowd")):
            mask[api.annToMask(ann) > 0] = ignore
    for ann in sorted((a for a in anns if not a.get("iscrowd")), key=lambda a: -a["area"]):
        mask[api.annToMask(ann) > 0] = index[ann["category_id"]]
    return mask

