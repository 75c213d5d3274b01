"""Reporting each epoch's validation score to a tuning trial and stopping the fit when the trial's
pruner says so (Optuna's `trial.report` / `trial.should_prune`, as optuna-integration's fastai callback)."""
from __future__ import annotations

from fastai.callback.core import Callback, CancelFitException

from fashionseg.callbacks.core import ORDER, skipped_epoch


class PruneTrial(Callback):
    """Reports column `metric` of each epoch to `trial`; a pruned trial ends its fit after that epoch
    (a run that finishes normally) with `learn.pruned_after` set to the epochs done, else None."""

    order = ORDER["PruneTrial"]

    def __init__(self, trial, metric: str):
        self.trial, self.metric = trial, metric

    def before_fit(self):
        self.learn.pruned_after = None

    def after_epoch(self):
        if hasattr(self.learn, "lr_finder") or skipped_epoch(self.learn) or not self.recorder.values[-1]:
            return
        names = list(self.recorder.metric_names[1:-1])
        value = float(self.recorder.values[-1][names.index(self.metric)])
        self.trial.report(value, self.epoch)
        if self.epoch + 1 < self.n_epoch and self.trial.should_prune():  # the last epoch finishes the trial
            self.learn.pruned_after = self.epoch + 1
            raise CancelFitException()
