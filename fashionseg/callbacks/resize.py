"""Progressive resizing: the training size follows the recipe's `sizes` schedule, epoch by epoch."""
from __future__ import annotations

from fastai.callback.core import Callback

from fashionseg.callbacks.core import ORDER
from fashionseg.models.resize import RunAtSize
from fashionseg.recipe.sizes import size_at, size_schedule


class ProgressiveResize(Callback):
    """Switches the model's input size at the epochs a recipe's `sizes` schedule names."""

    order = ORDER["ProgressiveResize"]

    def __init__(self, sizes):
        self.schedule = size_schedule(sizes)
        self.resizer = None

    def before_fit(self):
        if self.resizer is None:  # once: the hooks stay for evaluation after training
            self.resizer = RunAtSize(self.learn.model, self.schedule[0][1])

    def before_epoch(self):
        self.resizer.size = size_at(self.schedule, self.epoch)
