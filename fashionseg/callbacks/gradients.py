"""Gradient accumulation and clipping: fastai's callbacks, placed in the one order table. Every epoch ends
with an optimizer step, so a run resumed at an epoch boundary continues exactly as it would have."""
from __future__ import annotations

from fastai.callback.core import CancelBatchException
from fastai.callback.training import GradientAccumulation, GradientClip
from fastai.torch_core import find_bs

from fashionseg.callbacks.core import ORDER


class AccumulateGradients(GradientAccumulation):
    """One optimizer step every `n_batches` training batches of `bs` items: the update of one batch
    `n_batches` times larger (batch-norm statistics still come from each batch of `bs`)."""

    order = ORDER["AccumulateGradients"]

    def __init__(self, n_batches: int, bs: int):
        super().__init__(n_acc=n_batches * bs)

    def before_epoch(self):
        self.count = 0

    def before_step(self):
        """Skip the step until `n_acc` items are in the gradients, or the epoch's last batch is."""
        self.count += find_bs(self.learn.yb)
        if self.count < self.n_acc and self.iter < self.n_iter - 1:
            raise CancelBatchException()  # keeps the gradients: no step, no zero_grad
        self.count = 0


class ClipGradients(GradientClip):
    """Scale the gradients down to a global L2 norm of at most `max_norm` before each optimizer step
    (after accumulation decided to step, and after fp16's grad scaler unscaled them)."""

    order = ORDER["ClipGradients"]


def batch_norm_note(accumulate: int, bs: int, model) -> str | None:
    """A warning when accumulation meets batch norm: its statistics see `bs` items, not the effective batch."""
    from torch.nn.modules.batchnorm import _BatchNorm

    if int(accumulate) < 2 or not any(isinstance(m, _BatchNorm) for m in model.modules()):
        return None
    return (f"accumulate {accumulate}: the optimizer steps on {accumulate * bs} items, but batch norm normalises "
            f"each batch of {bs} alone; if bs is small, BN statistics stay noisy")
