"""Run a model at a chosen input size whatever size its inputs have: progressive resizing in
training, native-size evaluation of low-resolution models, predictions on photos of any size."""
from __future__ import annotations

import torch.nn.functional as F
from fastai.callback.core import Callback

from .sizes import as_size, size_at, size_schedule


class RunAtSize:
    """Forward hooks that resize a model's input to `size` and its score maps back to the input size.

    Hooks rather than a wrapper module, so the saved weights stay the architecture's own state_dict.
    """

    def __init__(self, model, size=None):
        self.size = as_size(size) if size is not None else None
        self.handles = [model.register_forward_pre_hook(self.shrink), model.register_forward_hook(self.restore)]

    def shrink(self, module, args):
        x = args[0]
        self.input_size = tuple(x.shape[-2:])
        if self.size is None or self.input_size == self.size:
            return None
        return (F.interpolate(x, size=self.size, mode="bilinear", antialias=True, align_corners=False), *args[1:])

    def restore(self, module, args, output):
        if output.ndim != 4 or tuple(output.shape[-2:]) == self.input_size:
            return None
        return F.interpolate(output, size=self.input_size, mode="bilinear", align_corners=False)

    def remove(self):
        for handle in self.handles:
            handle.remove()


class ProgressiveResize(Callback):
    """Switches the model's input size at the epochs a recipe's `sizes` schedule names."""

    def __init__(self, sizes):
        self.schedule = size_schedule(sizes)
        self.resizer = None

    def before_fit(self):
        if self.resizer is None:  # once: the hooks stay for evaluation after training
            self.resizer = RunAtSize(self.learn.model, self.schedule[0][1])

    def before_epoch(self):
        self.resizer.size = size_at(self.schedule, self.epoch)
