"""Losses a recipe names with `loss` and tunes with `loss_options`; the class axis comes from the task."""
from __future__ import annotations

import torch
from fastai.losses import BCEWithLogitsLossFlat, CrossEntropyLossFlat, DiceLoss, FocalLossFlat, MSELossFlat

from .errors import FashionsegError, unknown_name


class DiceCrossEntropy:
    """Cross-entropy plus `dice_weight` times the per-image, per-class Dice loss, which weighs
    a rare class's pixels as much as a common class's."""

    def __init__(self, axis: int = 1, dice_weight: float = 1.0, **ce_options):
        self.ce = CrossEntropyLossFlat(axis=axis, **ce_options)
        self.dice = DiceLoss(axis=axis, smooth=1.0, reduction="mean")
        self.dice_weight = dice_weight

    def __call__(self, pred, targ):
        return self.ce(pred, targ) + self.dice_weight * self.dice(pred, targ)


LOSSES = {
    "cross-entropy": CrossEntropyLossFlat,
    "focal": FocalLossFlat,
    "dice-ce": DiceCrossEntropy,
    "bce": BCEWithLogitsLossFlat,  # multi-label: one sigmoid per class
    "mse": MSELossFlat,  # regression
}


def make_loss(recipe, task, device=None):
    """The recipe's loss (the task's default when the recipe names none), reducing over the task's
    class axis; `loss_options.weight` gives per-class weights (cross-entropy, focal)."""
    name = recipe.loss or task.default_loss
    if name not in LOSSES:
        raise unknown_name("loss", name, LOSSES)
    options = dict(recipe.loss_options)
    if "weight" in options:
        try:
            options["weight"] = torch.tensor(options["weight"], dtype=torch.float32, device=device)
        except (TypeError, ValueError, RuntimeError):
            raise FashionsegError(f"loss_options.weight must be a list of numbers, one per class, not "
                                  f"{options['weight']!r}") from None
    if recipe.label_smoothing:
        options["label_smoothing"] = recipe.label_smoothing
    try:
        return LOSSES[name](axis=task.loss_axis, **options)
    except TypeError as exc:
        raise FashionsegError(f"loss {name!r} rejected its options {recipe.loss_options}: {exc}") from None
