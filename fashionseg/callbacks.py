"""fastai callbacks: the training clock and the epoch CSV (console progress: `fashionseg.progress`)."""
from __future__ import annotations

import time

from fastai.callback.core import Callback


class TrainClock(Callback):
    """Seconds spent in training phases only (validation excluded), as `learn.train_seconds`."""

    order = 1

    def before_fit(self):
        self.learn.train_seconds, self.started = 0.0, None

    def before_train(self):
        self.started = time.perf_counter()

    def after_train(self):
        if self.started is not None:
            self.learn.train_seconds += time.perf_counter() - self.started
            self.started = None

    # A CancelFitException raised inside a training phase (a time budget, a user's callback)
    # skips after_train; after_fit always runs, so the interrupted phase is counted there.
    after_fit = after_train


class EpochCSV(Callback):
    """Rewrites `metrics.csv` (one row per epoch) atomically after every epoch."""

    order = 62

    def __init__(self, folder=None):
        self.folder, self.rows = folder, []

    def before_fit(self):
        self.rows, self.start = [], time.time()

    def after_epoch(self):
        names = list(self.recorder.metric_names)
        values = list(self.recorder.log)
        row = dict(zip(names, values))
        row["time"] = round(time.time() - self.start, 3)  # seconds since fit began
        row["train_seconds"] = round(getattr(self.learn, "train_seconds", 0.0), 3)
        row["lr"] = self.opt.hypers[-1]["lr"]
        self.rows.append(row)
        if self.folder is None:
            return
        header = list(row)
        self.folder.write_csv("metrics.csv", header, [[r.get(h, "") for h in header] for r in self.rows])
