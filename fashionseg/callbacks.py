"""fastai callbacks: the training clock and the epoch CSV (console progress: `fashionseg.progress`)."""
from __future__ import annotations

import time

from fastai.callback.core import Callback


class TrainClock(Callback):
    """Seconds spent in training phases only (validation excluded), as `learn.train_seconds`.

    `start_seconds`: the training time a resumed run had already spent, so the clock continues it.
    """

    order = 1

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


class EpochCSV(Callback):
    """One row per epoch in `metrics.csv`, written atomically as each epoch ends.

    `elapsed_seconds` is cumulative wall time since fit began (validation included), `train_seconds`
    cumulative training time. A fresh fit starts the file over. With `resume=True` it continues the
    file's history: rows already there are kept as they are, epochs they record are not written
    again (fastai's `start_epoch` replays them as skipped epochs), and `elapsed_seconds` goes on
    from the last recorded value (time between the two processes is not counted).
    """

    order = 62

    def __init__(self, folder=None, resume: bool = False):
        self.folder, self.resume, self.rows = folder, resume, []

    def before_fit(self):
        history = self.folder.read_csv("metrics.csv") if self.resume and self.folder is not None else []
        self.rows, self.start = history, time.time()
        self.first_new = history[-1]["epoch"] + 1 if history else 0
        self.elapsed_before = history[-1]["elapsed_seconds"] if history else 0.0

    def after_epoch(self):
        if self.epoch < self.first_new:
            return
        row = dict(zip(self.recorder.metric_names, self.recorder.log))
        row.pop("time", None)  # fastai's per-epoch "mm:ss" string
        row["elapsed_seconds"] = round(self.elapsed_before + time.time() - self.start, 3)
        row["train_seconds"] = round(getattr(self.learn, "train_seconds", 0.0), 3)
        row["lr"] = self.opt.hypers[-1]["lr"]
        self.rows.append(row)
        if self.folder is None:
            return
        header = list(row)
        write = self.folder.write_csv if not self.resume and len(self.rows) == 1 else self.folder.append_csv
        write("metrics.csv", header, [[row[h] for h in header]])


class Heartbeat(Callback):
    """Keeps the run's status.json saying "running" with a fresh `updated` time and `epochs_done`.

    It writes when fit begins, at each epoch end, and within an epoch at most every `every` seconds,
    so `run_state` can tell a live run from one killed without a chance to say so. Like fastai's own
    trackers it sits out `lr_find` and `get_preds`, which raise fit events too.
    """

    order = 64

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
