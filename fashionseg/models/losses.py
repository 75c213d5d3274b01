"""Losses a recipe names with `loss` and tunes with `loss_options`; the class axis comes from the task."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from fastai.losses import (BaseLoss, BCEWithLogitsLossFlat, CrossEntropyLossFlat, DiceLoss, FocalLoss, FocalLossFlat,
                           MSELossFlat)

from fashionseg.errors import FashionsegError, unknown_name


class KeptDiceLoss(DiceLoss):
    """fastai's Dice loss over the pixels whose target is not `ignore_index`."""

    def __init__(self, ignore_index: int = -100, **options):
        super().__init__(**options)
        self.ignore_index = ignore_index

    def activation(self, x):
        return super().activation(x) * self.kept

    def __call__(self, pred, targ):
        self.kept = (targ != self.ignore_index).unsqueeze(self.axis)
        return super().__call__(pred, targ)


class DiceCrossEntropy:
    """Cross-entropy plus `dice_weight` times the per-image, per-class Dice loss, which weighs
    a rare class's pixels as much as a common class's."""

    def __init__(self, axis: int = 1, dice_weight: float = 1.0, ignore_index: int = -100, **ce_options):
        self.ce = CrossEntropyLossFlat(axis=axis, ignore_index=ignore_index, **ce_options)
        self.dice = KeptDiceLoss(ignore_index, axis=axis, smooth=1.0, reduction="mean")
        self.dice_weight = dice_weight

    def __call__(self, pred, targ):
        return self.ce(pred, targ) + self.dice_weight * self.dice(pred, targ)


class KeptFocalLoss(FocalLoss):
    """fastai's focal loss averaged over the items whose target is not `ignore_index`."""

    def __init__(self, gamma: float = 2.0, weight=None, reduction: str = "mean", ignore_index: int = -100):
        super().__init__(gamma, weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, inp, targ):
        kept = targ != self.ignore_index
        ce = F.cross_entropy(inp[kept], targ[kept], weight=self.weight, reduction="none")
        loss = (1 - torch.exp(-ce)) ** self.gamma * ce
        return loss.sum() if self.reduction == "sum" else loss.mean() if self.reduction == "mean" else loss


class KeptFocal(FocalLossFlat):
    """fastai's `FocalLossFlat` (flattened over the class axis) with `KeptFocalLoss` inside."""

    def __init__(self, *args, gamma: float = 2.0, axis: int = -1, **kwargs):
        BaseLoss.__init__(self, KeptFocalLoss, *args, gamma=gamma, axis=axis, **kwargs)


def weight_tensor(weight, classes, device=None) -> torch.Tensor | None:
    """Per-class loss weights as a tensor in class order; a mapping by class name needs `classes` (without
    them, as when a recipe is checked before its data is read, only its values are checked)."""
    if isinstance(weight, dict):
        if classes is None:
            weight = list(weight.values())
        else:
            for name in weight:
                if name not in classes:
                    raise unknown_name("class", str(name), classes, "data.json's classes")
            missing = [c for c in classes if c not in weight]
            if missing:
                raise FashionsegError(f"loss_options.weight names no weight for class {missing[0]!r}; give one "
                                      "for every class")
            weight = [weight[c] for c in classes]
    try:
        return torch.tensor(weight, dtype=torch.float32, device=device)
    except (TypeError, ValueError, RuntimeError):
        raise FashionsegError(f"loss_options.weight must be numbers, one per class (a list in class order or "
                              f"{{class: weight}}), not {weight!r}") from None


class AsymmetricLoss:
    """timm's asymmetric loss for multi-label (ASL, Ridnik et al. 2021: easy negatives down-weighted and
    shifted), averaged over images; sigmoid activation and 0.5 decisions as fastai's BCE loss has them."""

    def __init__(self, axis: int = -1, gamma_neg: float = 4, gamma_pos: float = 1, clip: float = 0.05):
        from timm.loss import AsymmetricLossMultiLabel

        self.asl = AsymmetricLossMultiLabel(gamma_neg=gamma_neg, gamma_pos=gamma_pos, clip=clip)

    def __call__(self, pred, targ):
        return self.asl(pred.float(), targ.float()) / max(len(pred), 1)

    def activation(self, x):
        return torch.sigmoid(x)

    def decodes(self, x):
        return x > 0.5


LOSSES = {
    "cross-entropy": CrossEntropyLossFlat,
    "focal": KeptFocal,
    "dice-ce": DiceCrossEntropy,
    "bce": BCEWithLogitsLossFlat,  # multi-label: one sigmoid per class
    "asl": AsymmetricLoss,  # multi-label, many more negatives than positives
    "mse": MSELossFlat,  # regression
}


IGNORING = ("cross-entropy", "focal", "dice-ce")


def make_loss(recipe, task, device=None, ignore_index: int | None = None, classes=None, class_weights=None):
    """The recipe's loss (the task's default when the recipe names none), reducing over the task's
    class axis; `loss_options.weight` (a list in class order, or {class name: weight}) or `class_weights`
    (from data_options.balance) gives per-class weights (cross-entropy, focal); targets equal
    to the data's `ignore_index` (a segmentation mask's ignore value) add nothing."""
    name = recipe.loss or task.default_loss
    if name not in LOSSES:
        raise unknown_name("loss", name, LOSSES)
    options = dict(recipe.loss_options)
    if class_weights is not None:
        options["weight"] = class_weights
    if "weight" in options:
        options["weight"] = weight_tensor(options["weight"], classes, device)
    if ignore_index is not None:
        if name not in IGNORING:
            raise FashionsegError(f"loss {name!r} cannot skip the masks' ignore value {ignore_index}; use one of "
                                  f"{', '.join(IGNORING)}, or set data_options.ignore_index=None")
        options["ignore_index"] = int(ignore_index)
    if recipe.label_smoothing:
        options["label_smoothing"] = recipe.label_smoothing
    try:
        return LOSSES[name](axis=task.loss_axis, **options)
    except TypeError as exc:
        raise FashionsegError(f"loss {name!r} rejected its options {recipe.loss_options}: {exc}") from None
