"""Segmentation data from decoded image/mask tensors: splits, joint augmentation, normalisation."""
from __future__ import annotations

from pathlib import Path

import torch
from fastai.data.transforms import Normalize
from fastai.vision.augment import Flip, aug_transforms

from ..errors import FashionsegError
from ..resize import as_size
from . import Data, split_indices
from .mask_folder import MaskFormat, PairSet, load_folder
from .tensor_block import ImageTensorBlock, MaskTensorBlock, tensor_datablock

# Batch transforms that move image and mask together (fastai's affine transforms resample the
# mask with nearest neighbours); facades and maps are never turned upside down.
AUGMENTS = {
    "none": lambda: [],
    "flip": lambda: [Flip(p=0.5)],
    "light": lambda: aug_transforms(max_rotate=5, max_zoom=1.1, max_lighting=0.2, max_warp=0),
    "fastai": lambda: aug_transforms(),
}


def channel_stats(images: torch.Tensor, chunk: int = 64) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images `(N, C, H, W)` on the [0, 1] scale, a chunk at a time."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for start in range(0, len(images), chunk):
        x = images[start: start + chunk].double().div_(255)
        total += x.sum((0, 2, 3))
        squares += x.square().sum((0, 2, 3))
    n = images.numel() / images.shape[1]
    mean = total / n
    std = (squares / n - mean.square()).clamp(min=1e-12).sqrt()
    return mean.tolist(), std.tolist()


def segmentation_data(train: PairSet, test: PairSet | None, classes: list[str], colors: list[str],
                      recipe, device=None, augment: str = "flip") -> Data:
    """Train/valid carved from `train` by `recipe.valid`, `test` evaluated at the end (valid when absent)."""
    if augment not in AUGMENTS:
        raise FashionsegError(f"augment must be one of {', '.join(AUGMENTS)}, not {augment!r}")
    if test is None and recipe.valid == "test":
        raise FashionsegError("this data set has no test folder; set valid to a fraction or a range such as 250-350")
    n_test = len(test.names) if test is not None else 0
    splits = split_indices(len(train.names), n_test, recipe.valid, recipe.seed, recipe.limit)
    if test is None:
        splits = splits[:2]
    images = torch.cat([train.images, test.images]) if test is not None else train.images
    masks = torch.cat([train.masks, test.masks]) if test is not None else train.masks
    mean, std = channel_stats(train.images)
    block = tensor_datablock(
        ImageTensorBlock(images), MaskTensorBlock(masks, classes), splits,
        batch_tfms=[*AUGMENTS[augment](), Normalize.from_stats(mean, std, cuda=False)],
    )
    dls = block.dataloaders(range(len(images)), bs=recipe.bs, num_workers=0, device=device)
    return Data(dls, list(classes), "segmentation", n_in=images.shape[1], colors=list(colors), stats=(mean, std),
                info={"image_size": list(images.shape[-2:])})


FOLDER_OPTIONS = {"train": "train", "test": "test", "masks": "auto", "color_tolerance": 0,
                  "image_suffix": ".jpg", "mask_suffix": ".png", "image_size": None, "augment": "flip"}


def check_options(dataset: str, given: dict, allowed) -> dict:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise FashionsegError(f"{dataset} takes data options {', '.join(allowed)}; not {', '.join(unknown)}")
    return given


def folder_data(root: Path, classes: dict[str, str], recipe, device=None, **options) -> Data:
    """Pairs in `root/<train>` (train and valid) and `root/<test>` (test, when that folder exists).

    `classes` maps each class name to its colour, in class-index order.
    """
    opts = {**FOLDER_OPTIONS, **options}
    fmt = MaskFormat(tuple(classes.values()), opts["masks"], int(opts["color_tolerance"]))
    size = as_size(opts["image_size"]) if opts["image_size"] else None

    def load(split):
        return load_folder(str(Path(root) / split), fmt, opts["image_suffix"], opts["mask_suffix"], 3, size)

    test_dir = Path(root) / opts["test"] if opts["test"] else None
    test = load(opts["test"]) if test_dir is not None and test_dir.is_dir() else None
    return segmentation_data(load(opts["train"]), test, list(classes), list(classes.values()), recipe, device,
                             opts["augment"])
