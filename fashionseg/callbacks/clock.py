"""The run's clocks: training seconds (`TrainClock`) and the heartbeat that keeps status.json fresh (`Heartbeat`)."""
from __future__ import annotations

import time

from fastai.callback.core import Callback

from fashionseg.callbacks.core import ORDER


class TrainClock(Callback):
    """Seconds spent in training phases only (validation excluded), as `learn.train_seconds`.

    `start_seconds`: the training time a resumed run had already spent, so the clock continues it.
    """

    order = ORDER["TrainClock"]

    def __init__(self, start_seconds: float = 0.0):
        self.start_seconds = start_seconds

    def before_fit(self):
        self.learn.train_seconds, self.started = self.start_seconds, None

    def before_train(self):
        self.started = time.perf_counter()

    def after_train(self):
        if self.started is not None:
            self.learn.train_seconds += time.perf_counter() - self.started
            self.started = None

    # A CancelFitException raised inside a training phase (a time budget, a user's callback)
    # skips after_train; after_fit always runs, so the interrupted phase is counted there.
    after_fit = after_train


class Heartbeat(Callback):
    """Keeps the run's status.json saying "running" with a fresh `updated` time and `epochs_done`.

    It writes when fit begins, at each epoch end, and within an epoch at most every `every` seconds,
    so `run_state` can tell a live run from one killed without a chance to say so. Like fastai's own
    trackers it sits out `lr_find` and `get_preds`, which raise fit events too.
    """

    order = ORDER["Heartbeat"]

    def __init__(self, folder, every: float = 60.0):
        self.folder, self.every = folder, every

    def before_fit(self):
        if hasattr(self.learn, "lr_finder") or hasattr(self.learn, "gather_preds"):
            self.run = False  # fastai sets it back to True after this fit
            return
        self._beat(self.epoch)

    def after_batch(self):
        if time.monotonic() - self.last >= self.every:
            self._beat(self.epoch)

    def after_epoch(self):
        self._beat(self.epoch + 1)

    def _beat(self, done: int):
        self.folder.status("running", epochs_done=done, epochs=self.n_epoch)
        self.last = time.monotonic()
