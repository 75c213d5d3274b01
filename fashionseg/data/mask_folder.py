"""Image/mask folders, decoded once into uint8 tensors.

A folder holds pairs that share a name: `photo.jpg` with `photo.png` (or `x_sat.jpg` with
`x_mask.png`, set by the suffixes), or `images/` and `masks/` subfolders whose files share stems.
Masks hold class indices (palette or grey PNGs, mapped through a label map when given) or RGB
colours read through the colour table.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from rich.progress import track

from fashionseg.data.colors import rgb_to_indices
from fashionseg.data.image_folder import IMAGE_SUFFIXES
from fashionseg.data.images import Unreadable, open_image, read_image, unreadable
from fashionseg.errors import FashionsegError

MASK_MODES = ("auto", "indices", "colors")


@dataclass(frozen=True)
class MaskFormat:
    """How to read a folder's masks; hashable, so decoded folders can be cached."""

    colors: tuple[str, ...]
    mode: str = "auto"  # "indices", "colors", or "auto": palette/grey masks are indices, RGB ones colours
    tolerance: int = 0  # largest per-channel distance to a table colour an RGB mask pixel may have
    ignore: int | None = 255  # the one value besides class indices an index mask may hold: pixels left out
    label_map: tuple[tuple[int, int], ...] = ()  # (source id, class index or `ignore`) pairs, for index masks

    def __post_init__(self):
        if self.mode not in MASK_MODES:
            raise FashionsegError(f"masks must be one of {', '.join(MASK_MODES)}, not {self.mode!r}")


@dataclass
class PairSet:
    images: torch.Tensor  # (N, C, H, W) uint8
    masks: torch.Tensor  # (N, H, W) uint8 class indices, or the format's ignore value
    names: list[str]
    skipped: list[str] = ()  # unreadable files left out (`skip_bad`)


def find_pairs(folder: Path, image_suffix: str = ".jpg", mask_suffix: str = ".png") -> list[tuple[Path, Path]]:
    """Every image in `folder` with the mask of the same name (or in `images/` with the mask of the same stem
    in `masks/`); an image without one is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FashionsegError(f"{folder} is not a folder")
    if (folder / "images").is_dir() and (folder / "masks").is_dir():
        return stem_pairs(folder / "images", folder / "masks")
    images = sorted(p for p in folder.iterdir() if p.name.endswith(image_suffix) and not p.name.endswith(mask_suffix))
    if not images:
        raise FashionsegError(f"{folder} holds no *{image_suffix} images; set data_options.image_suffix")
    pairs = [(p, folder / (p.name[: -len(image_suffix)] + mask_suffix)) for p in images]
    missing = [m.name for _, m in pairs if not m.is_file()]
    if missing:
        raise FashionsegError(f"{folder} lacks {len(missing)} masks, e.g. {missing[0]}; "
                              "set data_options.mask_suffix if masks are named differently")
    return pairs


def stem_pairs(images: Path, masks: Path) -> list[tuple[Path, Path]]:
    """Each image in `images` with the file of the same stem in `masks`, whatever their suffixes."""
    def by_stem(folder):
        return {p.stem: p for p in sorted(folder.iterdir())
                if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")}

    found, named = by_stem(images), by_stem(masks)
    if not found:
        raise FashionsegError(f"{images} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    missing = sorted(set(found) - set(named))
    if missing:
        raise FashionsegError(f"{masks} lacks masks for {len(missing)} images of {images}, e.g. {missing[0]}.*; "
                              "each image needs a mask with the same stem")
    return [(found[stem], named[stem]) for stem in sorted(found)]


def mapped(array: torch.Tensor, fmt: MaskFormat, path) -> torch.Tensor:
    """Source ids through `fmt.label_map` (id -> class index or the ignore value); an id it lacks is an error."""
    table = torch.full((max(int(array.max()) + 1, 256),), -1, dtype=torch.int32)
    for source, target in fmt.label_map:
        if source < len(table):  # ids past the mask's largest value do not occur in it
            table[source] = target
    out = table[array.long()]
    if (out < 0).any():
        raise FashionsegError(f"{path} holds id {int(array[out < 0][0])}, which data_options.label_map does not "
                              "map; map it to a class or to 'ignore'")
    return out.to(torch.uint8)


def read_mask(path: Path, fmt: MaskFormat, size: tuple[int, int] | None = None) -> torch.Tensor:
    """A mask as uint8 class indices `(H, W)`, resized (nearest) to `size` when given."""
    image = open_image(path)
    as_colors = fmt.mode == "colors" or (fmt.mode == "auto" and image.mode in ("RGB", "RGBA"))
    if not as_colors and image.mode not in ("P", "L", "I", "I;16"):
        raise FashionsegError(f"{path} is a {image.mode} image, not class indices; set data_options.masks='colors'")
    image = image.convert("RGB") if as_colors else image
    if size and image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.NEAREST)
    array = torch.from_numpy(np.array(image))
    if as_colors:
        return rgb_to_indices(array, fmt.colors, fmt.tolerance, source=str(path))
    if fmt.label_map:
        return mapped(array, fmt, path)
    stray = array[array >= len(fmt.colors)]
    stray = stray[stray != fmt.ignore] if fmt.ignore is not None else stray
    if stray.numel():
        raise FashionsegError(f"{path} holds class index {int(stray.max())}, but only {len(fmt.colors)} classes "
                              f"are named and the ignore value is {fmt.ignore}; is it a colour mask "
                              "(data_options.masks='colors'), or another ignore value (data_options.ignore_index)?")
    return array.to(torch.uint8)


def load_folder(folder: str, fmt: MaskFormat, image_suffix: str = ".jpg", mask_suffix: str = ".png",
                n_in: int = 3, size: tuple[int, int] | None = None, skip_bad: bool = False) -> PairSet:
    """Decode every pair in `folder` once; pairs differing in size need a common `size`."""
    pairs = find_pairs(Path(folder), image_suffix, mask_suffix)
    return load_pairs(tuple((str(i), str(m)) for i, m in pairs), fmt, n_in, size, skip_bad, Path(folder).name)


@lru_cache(maxsize=4)
def load_pairs(pairs: tuple[tuple[str, str], ...], fmt: MaskFormat, n_in: int = 3,
               size: tuple[int, int] | None = None, skip_bad: bool = False, label: str = "pairs") -> PairSet:
    """Decode (image, mask) file pairs once; every unreadable file is one error, or left out with `skip_bad`."""
    def read_pair(pair):
        try:
            return read_image(Path(pair[0]), n_in, size), read_mask(Path(pair[1]), fmt, size)
        except Unreadable as exc:
            return exc

    kept, images, masks, bad, skipped = [], [], [], [], []
    # the bar closes as the loop ends, an error included: one left to the garbage collector is closed in whichever
    # thread collects it, which can deadlock rich's console lock under another live display
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool, closing(  # decoders release the GIL
            track(pool.map(read_pair, pairs), total=len(pairs), description=f"decoding {label}", transient=True)
    ) as decoded:
        for pair, result in zip(pairs, decoded):
            if isinstance(result, Unreadable):
                bad.append(result)
                skipped.append(result.path)
                continue
            check_pair(Path(pair[0]), *result, Path(kept[0][0]) if kept else None, images[0] if images else None)
            kept.append(pair)
            images.append(result[0])
            masks.append(result[1])
    if bad and not skip_bad or not kept:
        raise unreadable(pairs, bad)
    return PairSet(torch.stack(images), torch.stack(masks), [Path(p).stem for p, _ in kept], skipped)


def check_pair(image_path: Path, image, mask, first_path: Path, first):
    """An image and its mask share a size, and every pair shares the first pair's size."""
    if image.shape[1:] != mask.shape:
        raise FashionsegError(f"{image_path.name} is {tuple(image.shape[1:])} but its mask is {tuple(mask.shape)}")
    if first is not None and image.shape != first.shape:
        raise FashionsegError(
            f"{image_path.name} is {tuple(image.shape[1:])}, {first_path.name} is {tuple(first.shape[1:])}; "
            "set data_options.image_size=[H, W] to decode every pair at one size")
