"""The last validation pass, kept for the test evaluation when the two are one pass.

A run that validates on its test set (`valid="test"`) with no test-time augmentation predicts every test item
twice: in its last epoch's validation and again in the final test evaluation, with the same weights. This
callback keeps each validation pass's batches (inputs, float32 predictions, targets) until the next one, and
hands them to the test evaluation only while the model is exactly as it was then: the same object and loader, every
parameter and buffer equal to a copy taken after the pass, the whole loader seen, no autocast. Otherwise
(the EMA's weights swapped in after fit, the best epoch's weights loaded, an early stop mid-validation, inputs
too large to keep) the test set is predicted again, as before.
"""
from __future__ import annotations

import torch
from fastai.callback.core import Callback

from fashionseg.callbacks.core import ORDER

LIMIT_BYTES = 512 * 2 ** 20  # inputs, predictions and targets kept at most; past it the test set is predicted again


def _state(model: torch.nn.Module) -> dict:
    """A copy of every parameter and buffer (torch's version counters miss fastai's `p.data` optimizer steps
    and batch-norm statistics, so the values themselves are compared)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(model: torch.nn.Module, state: dict) -> bool:
    now = model.state_dict()
    return now.keys() == state.keys() and all(torch.equal(now[k], v) for k, v in state.items())


def _bytes(*tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


class KeepValidation(Callback):
    """Keeps the latest validation pass for `batches_for(model)`; see the module's docstring."""

    order = ORDER["KeepValidation"]

    def __init__(self, limit_bytes: int = LIMIT_BYTES):
        self.limit_bytes = limit_bytes
        self.batches, self.kept_for, self.size = None, None, 0

    def before_validate(self):
        self.batches, self.kept_for, self.size = [], None, 0

    def after_pred(self):
        if not self.training and self.batches is not None and torch.is_autocast_enabled(self.pred.device.type):
            self.batches = None  # predictions under autocast are not the float32 ones the test evaluation makes

    def after_batch(self):
        if self.training or self.batches is None:
            return
        if len(self.xb) != 1 or len(self.yb) != 1:
            self.batches = None
            return
        batch = (self.xb[0].detach(), self.pred.detach().float(), self.yb[0].detach())
        self.size += _bytes(*batch)
        if self.size > self.limit_bytes:
            self.batches = None
        else:
            self.batches.append(batch)

    def after_validate(self):
        if self.batches is not None and len(self.batches) == len(self.dl):
            self.kept_for = (self.model, self.dl, _state(self.model))
        else:
            self.batches = None

    def batches_for(self, model: torch.nn.Module, dl) -> list | None:
        """`(inputs, logits, targets)` of the last whole validation pass over `dl` if `model` is unchanged since;
        else None."""
        if self.batches is None or self.kept_for is None:
            return None
        kept_model, kept_dl, state = self.kept_for
        if kept_model is not model or kept_dl is not dl or not _same(model, state):
            return None
        return self.batches

    def after_fit(self):
        if self.kept_for is None:
            self.batches = None

    def clear(self):
        """Let the kept batches go (the test evaluation has scored them)."""
        self.batches, self.kept_for = None, None
