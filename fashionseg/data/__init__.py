"""Data sources and the `Data` bundle a data set plugin returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from fastai.data.core import DataLoaders

from ..errors import FashionsegError
from ..recipe import valid_range


@dataclass
class Data:
    """DataLoaders (train, valid and, when held apart, test) plus what reports need."""

    dls: DataLoaders
    classes: list[str]
    task: str
    n_in: int
    colors: list[str] | None = None  # per-class colours, for segmentation figures
    stats: tuple[list[float], list[float]] | None = None  # normalisation mean/std, for display
    info: dict = field(default_factory=dict)

    @property
    def test_is_valid(self) -> bool:
        return len(self.dls.loaders) < 3

    @property
    def test_dl(self):
        return self.dls.valid if self.test_is_valid else self.dls.loaders[2]

    def summary(self) -> dict:
        """What predicting needs without the data set itself: classes, colours, normalisation."""
        return {"task": self.task, "classes": self.classes, "colors": self.colors, "n_in": self.n_in,
                "stats": self.stats, **self.info}

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Batch back to [0, 1] for display."""
        if self.stats is None:
            return x
        mean, std = (torch.tensor(s, device=x.device).view(1, -1, 1, 1) for s in self.stats)
        return (x * std + mean).clamp(0, 1)


def split_indices(n_train: int, n_test: int, valid: str, seed: int, limit: int = 0):
    """Train/valid(/test) index lists over train items followed by test items.

    `valid="test"` validates on the official test set; a fraction holds out that share of
    the training items, a range such as "250-350" those items, and the test set is kept for the end.
    """
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(n_train, generator=gen)
    test = list(range(n_train, n_train + n_test))
    if valid == "test":
        train = order if not limit else order[:limit]
        return sorted(train.tolist()), test
    held = valid_range(valid)
    if held is not None:
        if held.stop > n_train:
            raise FashionsegError(f"valid={valid} reaches past the {n_train} training items")
        is_valid = (order >= held.start) & (order < held.stop)
        valid_idx, train = order[is_valid], order[~is_valid]
    else:
        n_valid = max(1, round(float(valid) * n_train))
        valid_idx, train = order[:n_valid], order[n_valid:]
    if limit:
        train = train[:limit]
    if len(train) == 0:
        raise FashionsegError(f"valid={valid} leaves no training items")
    return sorted(train.tolist()), sorted(valid_idx.tolist()), test
