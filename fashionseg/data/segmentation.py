"""Segmentation data from decoded image/mask tensors: splits, joint augmentation, normalisation."""
from __future__ import annotations

from pathlib import Path

import torch

from fashionseg.data import Data, DataRequest, coco, voc
from fashionseg.data.colors import default_colors, parse_color
from fashionseg.data.decode_cache import cache_dir
from fashionseg.data.hf_datasets import hf_items, is_hf
from fashionseg.data.mask_folder import MaskFormat, PairSet, find_pairs, load_pairs
from fashionseg.data.stats import channel_stats
from fashionseg.data.tensor_block import ImageTensorBlock, MaskTensorBlock, tensor_dataloaders
from fashionseg.data.voc import is_voc, voc_pairs
from fashionseg.errors import FashionsegError, unknown_name
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
                stats=stats, colors=list(colors), ignore_index=ignore_index, targets=masks)


def folder_data(root: Path, classes, request: DataRequest, opts: dict) -> Data:
    """Pairs in `root/<train>` (train and valid) and `root/<test>` (test, when that folder exists), or the
    split lists of a VOC folder.

    `classes` names the classes in class-index order: a list, or a dict of name -> colour (None in a VOC
    folder: VOC's); `opts` holds every folder option (train, test, masks, color_tolerance, image_suffix,
    mask_suffix, image_size, augment, ignore_index, label_map, skip_bad).
    """
    root = Path(root)
    train, test, known = split_pairs(root, opts)
    names, colors = class_table(classes, known)
    ignore = check_ignore_index(opts["ignore_index"], len(names))
    fmt = MaskFormat(tuple(colors), opts["masks"], int(opts["color_tolerance"]), ignore,
                     label_map(opts.get("label_map"), names, ignore))
    size = as_size(opts["image_size"]) if opts["image_size"] else None
    train, test = (load_pairs(pairs, fmt, 3, size, bool(opts.get("skip_bad")), label) if pairs else None
                   for pairs, label in ((train, opts["train"]), (test, opts["test"])))
    data = segmentation_data(train, test, names, colors, request, opts["augment"], ignore)
    data.extra["skipped"] = [*train.skipped, *(test.skipped if test else [])]
    return data


def split_pairs(root: Path, opts: dict) -> tuple[tuple, tuple | None, tuple | None]:
    """(image, mask) file pairs of the training and test splits, and the (names, colours) of the classes when
    the layout names them: VOC split lists in a VOC folder, COCO annotations, a Hugging Face data set (its
    test split, else its validation split, is the test set), else the `train` and (when
    present) `test` folders (or `root` itself when it holds images/ and masks/)."""
    test = "val" if opts["test"] == "test" else opts["test"]  # what VOC and COCO call their held-out split
    if is_voc(root):
        return tuple(voc_pairs(root, opts["train"])), tuple(voc_pairs(root, test)), (voc.CLASSES, voc.palette())
    if coco.is_coco(root):
        ignore = opts["ignore_index"]
        cache = cache_dir(root, opts.get("cache", "auto"))
        train, names = coco.coco_pairs(root, opts["train"], cache, ignore)
        held = coco.coco_pairs(root, test, cache, ignore)[0] if coco.annotation_file(root, test) else None
        return tuple(train), tuple(held) if held else None, (names, default_colors(len(names)))
    if is_hf(root):
        items = hf_items(root, cache_dir(root, opts.get("cache", "auto")), masks=True)
        held = items.get("test") or items.get("valid")
        return tuple(zip(*items["train"])), tuple(zip(*held)) if held else None, None

    def pairs(split):
        found = find_pairs(root / split, opts["image_suffix"], opts["mask_suffix"])
        return tuple((str(i), str(m)) for i, m in found)

    has_test = opts["test"] and (root / opts["test"]).is_dir()
    unsplit = not (root / opts["train"]).is_dir() and (root / "images").is_dir()  # root/images/, root/masks/
    return pairs("." if unsplit else opts["train"]), pairs(opts["test"]) if has_test else None, None


def class_table(classes, known: tuple | None) -> tuple[list[str], list[str]]:
    """Class names and colours from `data_options.classes`: {name: colour}, a list of names (colours
    chosen), or nothing when the layout names them (`known`: VOC's names and palette, COCO's categories)."""
    if classes is None and known is not None:
        return list(known[0]), list(known[1])
    if isinstance(classes, dict) and len(classes) >= 2:
        return list(classes), ["#{:02X}{:02X}{:02X}".format(*parse_color(c)) for c in classes.values()]
    if isinstance(classes, (list, tuple)) and len(classes) >= 2 and all(isinstance(c, str) for c in classes):
        return list(classes), default_colors(len(classes))
    raise FashionsegError("mask-folder needs data_options.classes: class names in class-index order, as a list "
                          "['sky', 'wall', ...] or with colours {sky: '#0000FF', ...}" + (
                              f", not {classes!r}" if classes is not None else ""))


def label_map(given, names: list[str], ignore: int | None) -> tuple[tuple[int, int], ...]:
    """`data_options.label_map` {source id: class name, class index or 'ignore'} as (id, index) pairs."""
    if not given:
        return ()
    if not isinstance(given, dict):
        raise FashionsegError(f"data_options.label_map must map source ids to classes, not {given!r}")
    pairs = []
    for source, target in given.items():
        if not str(source).isdigit():
            raise FashionsegError(f"data_options.label_map key {source!r} is not an id in the masks (0 or more)")
        pairs.append((int(source), label_index(target, names, ignore)))
    return tuple(pairs)


def label_index(target, names: list[str], ignore: int | None) -> int:
    """A label-map target as a class index; 'ignore' is the ignore value."""
    if target == "ignore":
        if ignore is None:
            raise FashionsegError("data_options.label_map maps ids to 'ignore' but data_options.ignore_index is None")
        return ignore
    if isinstance(target, int) and not isinstance(target, bool) and 0 <= target < len(names):
        return target
    if isinstance(target, str) and target in names:
        return names.index(target)
    raise unknown_name("class", str(target), names, "data_options.classes")


def check_ignore_index(value, n_classes: int) -> int | None:
    """The masks' ignore value: None (every pixel counts) or an integer from n_classes to 255."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not n_classes <= value <= 255:
        raise FashionsegError(f"data_options.ignore_index must be None or an integer from {n_classes} (the class "
                              f"count) to 255, not {value!r}")
    return value
