"""Predict with a trained run from its folder alone: images of any size are resized to the size the
model was trained at and batched; the run's task interprets the output (labels and probabilities,
a mask at each image's own size)."""
from __future__ import annotations

import glob
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from fashionseg.data.image_folder import natural_key
from fashionseg.data.images import read_image, resized
from fashionseg.errors import FashionsegError
from fashionseg.infer.tta import test_time_forward

if TYPE_CHECKING:  # the run type is only named here: fashionseg.infer.trained imports this module
    from fashionseg.infer.trained import TrainedRun

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})


def normalize(x: torch.Tensor, summary: dict) -> torch.Tensor:
    """A uint8 batch `(B, C, H, W)` scaled to [0, 1] and normalised with the run's statistics."""
    x = x.float() / 255
    if summary.get("stats"):
        mean, std = (torch.tensor(s).view(1, -1, 1, 1) for s in summary["stats"])
        x = (x - mean) / std
    return x


def model_size(summary: dict) -> tuple[int, int] | None:
    """The size the model was trained at (None when the data's sizes varied)."""
    size = summary.get("input_size") or summary.get("image_size")
    return tuple(size) if size else None


@torch.no_grad()
def predict_images(trained: TrainedRun, images: list[torch.Tensor], tta: bool = False, tile: int = 0,
                   overlap: float = 0.25) -> list:
    """The task's predictions for uint8 images `(C, H, W)` of any sizes, run as one batch; `tta` adds the
    left-right mirror, `tile` predicts each image at its own size by a sliding window (segmentation)."""
    size, sizes = model_size(trained.summary), [tuple(im.shape[-2:]) for im in images]
    if (tile or size is None) and len(set(sizes)) > 1:  # at their own sizes: equal sizes only in one batch
        return [p for im in images for p in predict_images(trained, [im], tta, tile, overlap)]
    if len(set(sizes)) == 1:  # one size: normalised (and resized to the model's size) as one batch
        x = normalize(torch.stack(images), trained.summary)
        if not tile and size is not None and sizes[0] != size:
            x = resized(x, size)
    else:
        x = torch.stack([resized(normalize(im[None], trained.summary)[0], size) for im in images])
    return predict_inputs(trained, x, sizes, tta, tile, overlap)


@torch.no_grad()
def predict_inputs(trained: TrainedRun, x: torch.Tensor, sizes=None, tta: bool = False, tile: int = 0,
                   overlap: float = 0.25) -> list:
    """The task's predictions for a batch already normalised as the run's DataLoaders give it."""
    if tile and not trained.task.tiles:
        raise FashionsegError(f"tile applies to tasks that predict maps; {trained.task.name!r} runs predict whole "
                              "images: drop --tile")
    x = x.as_subclass(torch.Tensor).float().to(next(trained.model.parameters()).device)
    sizes = sizes or [tuple(x.shape[-2:])] * len(x)
    forward, model = test_time_forward(tta, tile, overlap, trained.task.average), trained.model.eval()
    return trained.task.predict_batch(model if forward is None else partial(forward, model), x, trained.summary,
                                      sizes)


def predict_image(trained: TrainedRun, image: torch.Tensor, tta: bool = False, tile: int = 0, overlap: float = 0.25):
    """The task's prediction for one uint8 image `(C, H, W)` of any size."""
    return predict_images(trained, [image], tta, tile, overlap)[0]


def predict_paths(trained: TrainedRun, paths: list[Path], bs: int = 64, tta: bool = False, tile: int = 0,
                  overlap: float = 0.25):
    """Yield `(path, image, prediction)` for image files, read and predicted `bs` at a time."""
    for start in range(0, len(paths), bs):
        chunk = paths[start:start + bs]
        images = [read_image(p, trained.summary["n_in"]) for p in chunk]
        yield from zip(chunk, images, predict_images(trained, images, tta, tile, overlap))


def find_images(inputs: list[str]) -> list[Path]:
    """Image files named by `inputs`: files as given, folders searched recursively and globs expanded
    (image suffixes only), in order, each once."""
    found = []
    for text in map(str, inputs):
        path = Path(text)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += images_under(path)
        elif glob.has_magic(text):
            for match in sorted(map(Path, glob.glob(text, recursive=True)), key=natural_order):
                found += images_under(match) if match.is_dir() else [match] if is_image(match) else []
        else:
            raise FashionsegError(f"{text} is neither a file, a folder nor a glob that matches; check the path")
    found = list(dict.fromkeys(found))
    if not found:
        raise FashionsegError(f"no images matched {' '.join(map(str, inputs))} (image files end in "
                              f"{', '.join(sorted(IMAGE_SUFFIXES))})")
    return found


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def images_under(folder: Path) -> list[Path]:
    """The image files anywhere under `folder`, in natural order (`2.png` before `10.png`)."""
    return sorted((Path(root, name) for root, _, names in os.walk(folder) for name in names
                   if is_image(Path(root, name))), key=natural_order)


def natural_order(path: Path) -> list:
    """Sort key reading each run of digits in each path component as a number: img2 < img10, sub2/ < sub10/."""
    return [natural_key(part) for part in Path(path).parts]


def mirrored_names(paths: list[Path]) -> list[Path]:
    """Each image's path relative to the deepest folder holding them all, less its suffix (kept where two
    images would share a name), so outputs mirror the inputs and never collide."""
    full = [p.resolve() for p in paths]
    common = Path(os.path.commonpath([p.parent for p in full]))
    stems = [p.relative_to(common).with_suffix("") for p in full]
    taken = {s: stems.count(s) for s in stems}
    return [s if taken[s] == 1 else p.relative_to(common) for s, p in zip(stems, full)]
