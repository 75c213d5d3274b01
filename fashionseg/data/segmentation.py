"""Segmentation data from decoded image/mask tensors: splits, joint augmentation, normalisation."""
from __future__ import annotations

from pathlib import Path

import torch

from fashionseg.data import Data, DataRequest
from fashionseg.data.mask_folder import MaskFormat, PairSet, load_folder
from fashionseg.data.stats import channel_stats
from fashionseg.data.tensor_block import ImageTensorBlock, MaskTensorBlock, tensor_dataloaders
from fashionseg.errors import FashionsegError
from fashionseg.recipe.sizes import as_size


def segmentation_data(train: PairSet, test: PairSet | None, classes: list[str], colors: list[str],
                      request: DataRequest, augment: str = "flip", ignore_index: int | None = None) -> Data:
    """Train/valid carved from `train` by `request.valid`, `test` evaluated at the end (valid when absent);
    mask pixels equal to `ignore_index` count in no loss or metric."""
    if test is None and request.valid == "test":
        raise FashionsegError("this data set has no test folder; set valid to a fraction or a range such as 250-350")
    n_test = len(test.names) if test is not None else 0
    images = torch.cat([train.images, test.images]) if test is not None else train.images
    masks = torch.cat([train.masks, test.masks]) if test is not None else train.masks
    stats = channel_stats(train.images)
    dls = tensor_dataloaders(request, ImageTensorBlock(images), MaskTensorBlock(masks, classes),
                             len(train.names), n_test, stats, augment, void=ignore_index)
    return Data(dls, list(classes), "segmentation", n_in=images.shape[1], input_size=tuple(images.shape[-2:]),
                stats=stats, colors=list(colors), ignore_index=ignore_index)


def folder_data(root: Path, classes: dict[str, str], request: DataRequest, opts: dict) -> Data:
    """Pairs in `root/<train>` (train and valid) and `root/<test>` (test, when that folder exists).

    `classes` maps each class name to its colour, in class-index order; `opts` holds every folder
    option (train, test, masks, color_tolerance, image_suffix, mask_suffix, image_size, augment, ignore_index).
    """
    ignore = check_ignore_index(opts["ignore_index"], len(classes))
    fmt = MaskFormat(tuple(classes.values()), opts["masks"], int(opts["color_tolerance"]), ignore)
    size = as_size(opts["image_size"]) if opts["image_size"] else None

    def load(split):
        return load_folder(str(Path(root) / split), fmt, opts["image_suffix"], opts["mask_suffix"], 3, size)

    test_dir = Path(root) / opts["test"] if opts["test"] else None
    test = load(opts["test"]) if test_dir is not None and test_dir.is_dir() else None
    return segmentation_data(load(opts["train"]), test, list(classes), list(classes.values()), request,
                             opts["augment"], ignore)


def check_ignore_index(value, n_classes: int) -> int | None:
    """The masks' ignore value: None (every pixel counts) or an integer from n_classes to 255."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not n_classes <= value <= 255:
        raise FashionsegError(f"data_options.ignore_index must be None or an integer from {n_classes} (the class "
                              f"count) to 255, not {value!r}")
    return value
