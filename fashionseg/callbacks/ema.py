"""Weight EMA: an exponential moving average of the model's weights (timm's `ModelEmaV3`) as a fastai callback.

The average is updated after every optimizer step. It is what validates at each epoch's end (so
metrics.csv, early stopping and the best-k checkpoints see the averaged weights) and what the run
keeps when training ends (model.pth, the test evaluation); the optimizer keeps stepping the raw
weights in between. `last.pth` holds both, so a resumed run continues the same average.
"""
from __future__ import annotations

import torch
from fastai.callback.core import Callback
from fastai.torch_core import get_model

from fashionseg.callbacks.core import ORDER


class WeightEMA(Callback):
    """Keep `decay`-weighted averages of the weights and buffers; timm's warm-up (power 3/4) lowers the decay
    over the first steps, so the average does not remember the random initialisation.

    Order 64.5: the averaged weights go in before validation and stay through the epoch-end callbacks that
    save or judge them (EpochCSV 62, BestCheckpoints 63, Heartbeat 64); the raw weights come back before
    LastCheckpoint (65) writes the state training continues from.
    """

    order = ORDER["WeightEMA"]

    def __init__(self, decay: float):
        self.decay, self.restored, self.ema = float(decay), None, None

    def restore(self, state: dict):
        """Continue a resumed run's average (the `ema` entry of its last.pth)."""
        self.restored = state

    def state(self) -> dict:
        return {"steps": self.steps, "weights": self.ema.module.state_dict()}

    def before_fit(self):
        if hasattr(self.learn, "lr_finder") or hasattr(self.learn, "gather_preds"):
            self.run = False  # fastai sets it back to True after this fit
            return
        from timm.utils import ModelEmaV3

        self.ema = ModelEmaV3(get_model(self.model), decay=self.decay, use_warmup=True, warmup_power=3 / 4)
        self.steps, self.raw = 0, None
        if self.restored is not None:
            self.ema.module.load_state_dict(self.restored["weights"])
            self.steps = int(self.restored["steps"])

    def after_step(self):
        self.steps += 1
        self.ema.update(get_model(self.model), step=self.steps)

    def before_validate(self):
        if self.steps:  # epochs a resumed run skips validate nothing
            self.raw = self._swap_in(self.ema.module.state_dict())

    def after_epoch(self):
        if self.raw is not None:
            self._swap_in(self.raw)
            self.raw = None

    def after_fit(self):
        """Training ends with the averaged weights in the model."""
        if self.ema is not None and self.steps:
            self._swap_in(self.ema.module.state_dict())
        self.raw = None

    @torch.no_grad()
    def _swap_in(self, weights: dict) -> dict:
        """Copy `weights` into the model in place (memory format kept); return what was there."""
        current = get_model(self.model).state_dict()
        before = {k: v.detach().clone() for k, v in current.items()}
        for k, v in current.items():
            v.copy_(weights[k])
        return before
