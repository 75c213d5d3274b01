"""Run a model at a chosen input size whatever size its inputs have: progressive resizing in
training, native-size evaluation of low-resolution models, predictions on photos of any size."""
from __future__ import annotations

import torch.nn.functional as F
from fastai.callback.core import Callback

from .errors import FashionsegError


def as_size(size) -> tuple[int, int]:
    """128 or [128, 96] as (height, width)."""
    pair = [size, size] if isinstance(size, int) else list(size) if isinstance(size, (list, tuple)) else []
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise FashionsegError(f"a size is a positive integer or [height, width], not {size!r}")
    return pair[0], pair[1]


def size_schedule(sizes) -> list[tuple[int, tuple[int, int]]]:
    """`[[0, 128], [8, 256]]`: 128 from epoch 0, 256 from epoch 8; checked and normalised."""
    schedule = []
    for entry in sizes:
        if not (isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], int)):
            raise FashionsegError(f"sizes takes [[epoch, size], ...], e.g. [[0, 128], [8, 256]]; got entry {entry!r}")
        schedule.append((entry[0], as_size(entry[1])))
    epochs = [e for e, _ in schedule]
    if schedule and (epochs[0] != 0 or epochs != sorted(set(epochs))):
        raise FashionsegError(f"sizes must start at epoch 0 and rise, got epochs {epochs}")
    return schedule


def size_at(schedule, epoch: int) -> tuple[int, int]:
    return [size for start, size in schedule if start <= epoch][-1]


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
