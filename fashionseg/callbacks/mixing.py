"""MixUp and CutMix for classification: timm's `Mixup` (with its label smoothing) on each training batch,
and timm's soft-target cross-entropy for the blended labels it makes."""
from __future__ import annotations

import torch
from fastai.callback.core import Callback

from fashionseg.callbacks.core import ORDER


class SoftTargets:
    """The Learner's loss for class labels; timm's soft-target cross-entropy for blended (float) targets."""

    def __init__(self, hard):
        from timm.loss import SoftTargetCrossEntropy

        self.hard, self.soft = hard, SoftTargetCrossEntropy()

    def __call__(self, pred, target, **kwargs):
        if target.is_floating_point():
            return self.soft(pred.as_subclass(torch.Tensor), target.as_subclass(torch.Tensor))
        return self.hard(pred, target, **kwargs)

    def __getattr__(self, name):  # fastai asks the loss for decodes, activation, reduction
        if name == "hard":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.hard, name)


class MixBatch(Callback):
    """Blend each training batch with its mirror order (MixUp, CutMix or, with both, one of the two per batch);
    targets become label distributions (summing to one, `smoothing` spread over the classes) for the loss;
    after it, training metrics see the batch's own labels again."""

    order, run_valid = ORDER["MixBatch"], False

    def __init__(self, mixup: float, cutmix: float, n_classes: int, smoothing: float = 0.0):
        from timm.data import Mixup

        self.mix = Mixup(mixup_alpha=float(mixup), cutmix_alpha=float(cutmix), label_smoothing=float(smoothing),
                         num_classes=n_classes)

    def before_fit(self):
        self.hard = self.learn.loss_func
        self.learn.loss_func = SoftTargets(self.hard)

    def before_batch(self):
        x, y = self.xb[0], self.yb[0]
        if len(x) % 2:  # timm pairs the batch's halves; a short odd batch trains unmixed
            return
        mixed, soft = self.mix(x.as_subclass(torch.Tensor).clone(), y.as_subclass(torch.Tensor))
        self.labels = self.yb
        self.learn.xb, self.learn.yb = (type(x)(mixed),), (soft,)

    def after_loss(self):
        if self.learn.yb[0].is_floating_point():
            self.learn.yb = self.labels

    def after_fit(self):
        self.learn.loss_func = self.hard
