"""fastai's WandbCallback as `--track wandb` uses it (imported only then: it imports wandb)."""
from __future__ import annotations

import math

import wandb
from fastai.callback.wandb import WandbCallback


class WandbLog(WandbCallback):
    """fastai's WandbCallback (losses, learning rates and epoch metrics), less its config gathering:
    `Learner.gather_args` fails on every Learner with this fastai (fastai issue #4173, `_format_config`
    calls `init_args` on plain numbers), so `trackers.WandbRun` logs the recipe as the run's config.
    Prediction samples and model uploads stay off: they need a DataBlock's `test_dl`, not our tensor data."""

    def __init__(self, start_epoch: int = 0):
        super().__init__(log=None, log_preds=False, log_model=False, log_dataset=False)
        self.start_epoch = start_epoch

    def before_fit(self):
        """Steps and epochs continue a resumed run's: from the epoch it resumes at (an offline run does not
        know its earlier steps), or where an online run's history ends, as fastai's does."""
        resumed = self.start_epoch * len(self.dls.train)
        self._wandb_step = max(wandb.run.step, resumed) - 1
        self._wandb_epoch = math.ceil(wandb.run.summary["epoch"]) if wandb.run.step else self.start_epoch
        self.run = not (hasattr(self.learn, "lr_finder") or hasattr(self.learn, "gather_preds"))
