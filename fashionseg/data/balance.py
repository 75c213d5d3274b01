"""Class imbalance: per-split class counts, the warning, and `data_options.balance` (loss weights from
inverse or effective-number frequencies, or a sampler drawing classes evenly).

Every data set takes `balance` ("none", "weights" or "sampler") and `balance_beta` (0: inverse frequency;
between 0 and 1, e.g. 0.999: the effective number of items, Cui et al. 2019).
"""
from __future__ import annotations

import numpy as np
import torch
from fastai.callback.data import WeightedDL

from fashionseg.data.tensor_block import BatchIndexDL
from fashionseg.errors import FashionsegError

OPTIONS = {"balance": "none", "balance_beta": 0.0}
BALANCE = ("none", "weights", "sampler")
WARN_RATIO = 10  # warn when the largest class has more than this many times the items of the smallest


class WeightedBatchIndexDL(WeightedDL, BatchIndexDL):
    """fastai's weighted sampler (draws with replacement by item weight) over whole-batch indexing."""


def check_balance(options: dict):
    """`balance` is one of BALANCE and `balance_beta` a number in [0, 1)."""
    if options["balance"] not in BALANCE:
        raise FashionsegError(f"data_options.balance must be one of {', '.join(BALANCE)}, not {options['balance']!r}")
    beta = options["balance_beta"]
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 <= beta < 1:
        raise FashionsegError(f"data_options.balance_beta must be a number in [0, 1) (0: inverse frequency), "
                              f"not {beta!r}")


def split_counts(targets: torch.Tensor, items, n_classes: int) -> list[int]:
    """Items (labels) or pixels (masks) of each class among `items`; mask values past the classes
    (ignored pixels) are not counted."""
    values = targets[torch.as_tensor(list(items), dtype=torch.long)].reshape(-1).long()
    return torch.bincount(values[values < n_classes], minlength=n_classes).tolist()


def class_counts(data) -> dict[str, list[int]] | None:
    """Per split (train, valid, test), the count of each class; None when the data set gives no targets."""
    if data.targets is None:
        return None
    names = ("train", "valid", "test")
    return {name: split_counts(data.targets, dl.dataset.items, len(data.classes))
            for name, dl in zip(names, data.dls.loaders)}


def class_count_sections(data) -> list:
    """The report's table of class counts per split (none when the data set gives no targets)."""
    from fashionseg.registry.task import Section

    counts = data.class_counts()
    if not counts:
        return []
    per_split = counts["class_counts"]
    rows = [[name, *(per_split[split][name] for split in per_split)] for name in data.classes]
    return [Section(f"Class counts ({counts['class_count_unit']})", ["class", *per_split], rows)]


def imbalance_warning(classes: list[str], counts: list[int]) -> str | None:
    """A warning when the largest class has more than WARN_RATIO times the items of the smallest."""
    largest, smallest = int(np.argmax(counts)), int(np.argmin(counts))
    if counts[largest] <= WARN_RATIO * counts[smallest]:
        return None
    return (f"warning: the training classes are imbalanced: {classes[largest]!r} has {counts[largest]} and "
            f"{classes[smallest]!r} {counts[smallest]}; a high accuracy may hide a rare class that is never "
            "predicted: see the per-class counts in data.json, or set data_options.balance=weights or sampler")


def loss_weights(counts: list[int], beta: float = 0.0) -> list[float]:
    """One loss weight per class, inverse to its frequency (beta 0) or to its effective number of items
    (1 - beta^n) / (1 - beta); scaled to average 1 over the classes."""
    n = np.maximum(np.asarray(counts, dtype=np.float64), 1)
    weights = 1 / n if beta == 0 else (1 - beta) / (1 - np.power(beta, n))
    return (weights * len(weights) / weights.sum()).tolist()


def balanced(data, options: dict):
    """Apply `data_options.balance` to `data`: loss weights (`data.class_weights`) or a training sampler
    drawing each class evenly (classification)."""
    how = options.get("balance", "none")
    if how == "none":
        return data
    if data.targets is None:
        raise FashionsegError(f"data_options.balance={how} needs the class of each item, which this data set "
                              "does not give")
    counts = class_counts(data)["train"]
    if how == "weights":
        data.class_weights = loss_weights(counts, float(options.get("balance_beta", 0.0)))
        return data
    if data.targets.ndim != 1:
        raise FashionsegError("data_options.balance=sampler draws whole items by class, so it is for "
                              "classification; for segmentation use data_options.balance=weights")
    train = data.dls.train
    labels = data.targets[torch.as_tensor(list(train.dataset.items), dtype=torch.long)].long()
    per_item = (1 / torch.tensor(counts, dtype=torch.float64).clamp(min=1))[labels].numpy()
    data.dls.loaders[0] = train.new(cls=WeightedBatchIndexDL, wgts=per_item)
    return data
