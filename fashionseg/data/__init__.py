"""The data layer's contract: what a data-set factory receives (`DataRequest`) and returns (`Data`).

A data set plugin registers `Dataset(name, factory, task=..., options={...})`. The core checks
the recipe's `data_options` against `options` (unknown keys, the augmentation name) before any
data is read, then calls `factory(request)`. The factory must honour every field of the request:
split with `request.splits(n_train, n_test)` (which applies `valid`, `train_items`, `seed`, `limit` and
`eval_limit`), batch with `request.bs` on `request.device` (`tensor_dataloaders` does both for
data decoded into tensors), and never download unless `options["download"]` is true.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import torch
from fastai.data.core import DataLoaders

from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import valid_fold, valid_range


@dataclass
class DataRequest:
    """What a data set must deliver: options (declared keys, defaults filled), splits, batches, device."""

    options: dict
    valid: str = "test"  # "test", a hold-out fraction "0.1", or training items "250-350"
    seed: int = 42
    limit: int = 0  # train on only this many items (0: all)
    eval_limit: int = 0  # validate and test on only this many items (0: all)
    bs: int = 128
    device: Any = None
    train_items: str = ""  # a range such as "0-250": train on those training items only ("": all)
    # normalisation (mean, std per channel) the model's pretrained weights expect; None: the data's own statistics
    stats: tuple[list[float], list[float]] | None = None

    @classmethod
    def from_recipe(cls, recipe, options: dict, device=None, stats=None) -> "DataRequest":
        return cls(options, recipe.valid, recipe.seed, recipe.limit, recipe.eval_limit, recipe.bs,
                   device, recipe.train_items, stats)

    def normalisation(self, own):
        """The statistics to normalise with: the weights' (`stats`) fitted to the data's channels, else `own`."""
        if self.stats is None or own is None:
            return own
        return tuple(fit_channels(list(s), len(o)) for s, o in zip(self.stats, own))

    def splits(self, n_train: int, n_test: int, labels=None) -> tuple[list[int], ...]:
        """Train, valid (and test, when held apart) item indices over train items then test items;
        `labels` of the training items stratify a hold-out fraction."""
        return split_indices(n_train, n_test, self.valid, self.seed, self.limit, self.eval_limit, labels,
                             self.train_items)


@dataclass
class Data:
    """What a data-set factory returns: DataLoaders (train, valid and, when held apart, test)
    and the facts reports and inference need."""

    dls: DataLoaders
    classes: list[str]
    task: str  # a registered task's name
    n_in: int  # input channels
    input_size: tuple[int, int] | None  # (H, W) of every input; None when sizes vary
    stats: tuple[list[float], list[float]] | None = None  # per-channel normalisation mean and std (0-1 scale)
    colors: list[str] | None = None  # per-class colours, for masks
    boxes: torch.Tensor | None = None  # (N, 4) object boxes (top, left, bottom, right) per item, for pointing
    extra: dict = field(default_factory=dict)  # small JSON-able facts for data.json (e.g. canvas size)
    ignore_index: int | None = None  # a mask value that counts in no loss or metric (segmentation)
    targets: torch.Tensor | None = None  # every item's class (N,) or mask (N, H, W): class counts, balancing
    class_weights: list[float] | None = None  # per-class loss weights set by data_options.balance=weights

    @property
    def test_is_valid(self) -> bool:
        return len(self.dls.loaders) < 3

    @property
    def test_dl(self):
        return self.dls.valid if self.test_is_valid else self.dls.loaders[2]

    def summary(self) -> dict:
        """data.json: what inference needs without the data set (classes, colours, channels, size,
        normalisation) and the split sizes; small whatever the data set's size."""
        counts = {f"n_{name}": len(dl.dataset) for name, dl in zip(("train", "valid", "test"), self.dls.loaders)}
        if self.test_is_valid:
            counts["n_test"] = counts["n_valid"]
        counts.update(self.class_counts())
        return {"task": self.task, "classes": list(self.classes), "colors": self.colors, "n_in": self.n_in,
                "image_size": list(self.input_size) if self.input_size else None,
                "stats": [list(s) for s in self.stats] if self.stats else None, "ignore_index": self.ignore_index,
                **counts, **self.extra}

    def class_counts(self) -> dict:
        """data.json's `class_counts` {split: {class: items}} (pixels for masks: `class_count_unit`)."""
        from fashionseg.data.balance import class_counts

        per_split = class_counts(self)
        if per_split is None:
            return {}
        if self.test_is_valid:
            per_split["test"] = per_split["valid"]
        return {"class_counts": {split: dict(zip(self.classes, counts)) for split, counts in per_split.items()},
                "class_count_unit": "items" if self.targets.ndim == 1 else "pixels",
                **({"class_weights": self.class_weights} if self.class_weights else {})}

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Batch back to [0, 1] for display."""
        return denormalize(x, self.stats)


def denormalize(x: torch.Tensor, stats) -> torch.Tensor:
    """A normalised batch `(B, C, H, W)` back to [0, 1] with the data's `(mean, std)`."""
    if stats is None:
        return x
    mean, std = (torch.tensor(s, device=x.device).view(1, -1, 1, 1) for s in stats)
    return (x * std + mean).clamp(0, 1)


def fit_channels(values: list[float], n: int) -> list[float]:
    """Per-channel values for `n` channels: averaged for grey images under RGB weights (the stem is summed the
    same way), repeated for RGB images under grey ones."""
    if len(values) == n:
        return values
    return [sum(values) / len(values)] * n if n == 1 or len(values) != 1 else values * n


def applied_stats(dls) -> tuple[list[float], list[float]] | None:
    """The mean and std the loaders' fastai `Normalize` batch transform uses (None without one)."""
    from fastai.data.transforms import Normalize

    for tfm in getattr(dls.train, "after_batch", []).fs:
        if isinstance(tfm, Normalize):
            return tfm.mean.flatten().tolist(), tfm.std.flatten().tolist()
    return None


def check_data_options(dataset, given: dict) -> dict:
    """`data_options` against the data set's declared options (and the balancing options every data set
    takes): unknown keys, a bad `augment` or `balance` are errors; the result has every default filled in."""
    from fashionseg.data.balance import OPTIONS, check_balance

    declared = {**dataset.options, **OPTIONS}  # every data set takes the balancing options
    unknown = sorted(set(given) - set(declared))
    if unknown:
        takes = ", ".join(declared)
        raise FashionsegError(f"data set {dataset.name!r} takes data_options {takes}; not {', '.join(unknown)}")
    options = {**declared, **given}
    check_balance(options)
    if augmenting(options.get("augment")):  # fastai's and kornia's augmentation stacks load only when used
        from fashionseg.data.augment import augmentations

        augmentations(options["augment"])
    return options


def augmenting(spec) -> bool:
    """Whether an `augment` setting asks for any augmentation ('none', empty or missing: none)."""
    return spec not in ("none", None, "")


def split_indices(n_train: int, n_test: int, valid: str, seed: int, limit: int = 0, eval_limit: int = 0,
                  labels=None, train_items: str = ""):
    """Train/valid(/test) index lists over train items followed by test items.

    `valid="test"` validates on the official test set; a fraction holds out that share of
    the training items (of each class, when the training items' `labels` are given and every class
    can spare one), a range such as "250-350" those items, a fold such as "fold2/5" the third of five folds
    (stratified by `labels` where every class fills each fold), and the test set is kept for the end
    (with no test items, the validation set is evaluated at the end).
    `train_items` ("0-250") keeps only those training items for training (the validation items are
    chosen first, from all of them); `limit` caps the training items, `eval_limit` the validation and
    test items.
    """
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(n_train, generator=gen)
    test = list(range(n_train, n_train + n_test))[: eval_limit or None]
    if valid == "test":
        train = only_items(order, train_items, n_train, valid)
        train = train if not limit else train[:limit]
        return sorted(train.tolist()), test
    held, fold = valid_range(valid), valid_fold(valid)
    if fold is not None:
        train, valid_idx = fold_split(order, *fold, seed, labels)
    elif held is not None:
        if held.stop > n_train:
            raise FashionsegError(f"valid={valid} reaches past the {n_train} training items")
        is_valid = (order >= held.start) & (order < held.stop)
        valid_idx, train = order[is_valid], order[~is_valid]
    else:
        n_valid = held_out_count(valid, n_train)
        valid_idx, train = order[:n_valid], order[n_valid:]
        if labels is not None and stratifiable(labels, n_valid):
            from sklearn.model_selection import train_test_split

            train, valid_idx = (torch.as_tensor(part) for part in train_test_split(
                order.numpy(), test_size=n_valid, stratify=[labels[i] for i in order.tolist()], random_state=seed))
    train = only_items(torch.as_tensor(train), train_items, n_train, valid)
    if limit:
        train = train[:limit]
    valid_idx = sorted(valid_idx.tolist())[: eval_limit or None]
    return (sorted(train.tolist()), valid_idx, test) if test else (sorted(train.tolist()), valid_idx)


def fold_split(order: torch.Tensor, fold: int, k: int, seed: int, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Training and validation indices of fold `fold` of `k` over the shuffled training items `order`:
    scikit-learn's StratifiedKFold when `labels` are given and every class has k items, else KFold."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if len(order) < k:
        raise FashionsegError(f"valid=fold{fold}/{k} needs at least {k} training items, not {len(order)}")
    y = [labels[i] for i in order.tolist()] if labels is not None else None
    if y is not None and min(Counter(y).values()) >= k:
        parts = StratifiedKFold(k, shuffle=True, random_state=seed).split(order.numpy(), y)
    else:
        parts = KFold(k, shuffle=True, random_state=seed).split(order.numpy())
    train, valid = list(parts)[fold]
    return order[torch.as_tensor(train)], order[torch.as_tensor(valid)]


def stratifiable(labels, n_valid: int) -> bool:
    """Whether a hold-out of `n_valid` items can keep every class's share: each class has two items
    or more, and there are at least as many held-out items as classes (and as training items left)."""
    counts = Counter(labels)
    return min(counts.values()) >= 2 and len(counts) <= min(n_valid, len(labels) - n_valid)


def held_out_count(fraction: str, n_train: int) -> int:
    """How many training items a hold-out fraction such as "0.1" takes (at least one)."""
    return max(1, round(float(fraction) * n_train))


def only_items(train: torch.Tensor, train_items: str, n_train: int, valid: str) -> torch.Tensor:
    """The training indices inside the range `train_items` (all when it is ''); none left is an error."""
    keep = valid_range(train_items) if train_items else None
    if keep is not None:
        if keep.stop > n_train:
            raise FashionsegError(f"train_items={train_items} reaches past the {n_train} training items")
        train = train[(train >= keep.start) & (train < keep.stop)]
    if len(train) == 0:
        raise FashionsegError(f"valid={valid} leaves no training items" + (
            f" in train_items={train_items}" if train_items else ""))
    return train
