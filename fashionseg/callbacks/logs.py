"""What training writes as it goes: one row per epoch in metrics.csv, and every N iterations in iterations.csv."""
from __future__ import annotations

import copy
import time

from fastai.callback.core import Callback
from fastai.torch_core import maybe_gather

from fashionseg.callbacks.core import ORDER
from fashionseg.run_folders.folder import RunFolder


class EpochCSV(Callback):
    """One row per epoch in `metrics.csv`, written atomically as each epoch ends.

    `elapsed_seconds` is cumulative wall time since fit began (validation included), `train_seconds`
    cumulative training time. A fresh fit starts the file over. With `resume=True` it continues the
    file's history: rows already there are kept as they are, epochs they record are not written
    again (fastai's `start_epoch` replays them as skipped epochs), and `elapsed_seconds` goes on
    from the last recorded value (time between the two processes is not counted).
    """

    order = ORDER["EpochCSV"]

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


class IterationLog(Callback):
    """Every `every` training iterations, the mean loss and training metrics over them, in iterations.csv.

    A fresh fit starts the file over. With `resume=True` it continues the file: iterations count on
    from the epochs fastai's `start_epoch` skips, and rows for iterations the file already records
    are not written again.
    """

    order = ORDER["IterationLog"]

    def __init__(self, folder: RunFolder, every: int, resume: bool = False):
        self.folder, self.every, self.resume = folder, every, resume

    def before_fit(self):
        history = self.folder.read_csv("iterations.csv") if self.resume else []
        self.rows, self.window = history, [copy.copy(m) for m in self.learn.metrics]
        self.recorded = history[-1]["iteration"] if history else 0
        self.per_epoch = len(self.dls.train)
        self.offset = None if self.resume else 0  # iterations before this fit's first trained epoch
        self._reset()

    def before_train(self):
        if self.offset is None:
            self.offset = self.epoch * self.per_epoch - self.train_iter

    def _reset(self):
        self.loss_sum, self.n = 0.0, 0
        for m in self.window:
            m.reset()

    def after_batch(self):
        if not self.training:
            return
        self.loss_sum += float(maybe_gather(self.loss.detach()))  # the mean over ranks when launched
        self.n += 1
        for m in self.window:
            m.accumulate(self.learn)
        if (self.train_iter + self.offset) % self.every == 0:
            self._flush()

    def after_fit(self):
        if self.n:
            self._flush()

    def _flush(self):
        iteration = self.train_iter + self.offset
        if iteration > self.recorded:
            self._write({"iteration": iteration, "epoch": round(iteration / self.per_epoch, 4),
                         "train_loss": self.loss_sum / self.n, "lr": self.opt.hypers[-1]["lr"],
                         **{f"train_{m.name}": float(m.value) for m in self.window}})
        self._reset()

    def _write(self, row: dict):
        self.rows.append(row)
        header = list(row)
        write = self.folder.write_csv if not self.resume and len(self.rows) == 1 else self.folder.append_csv
        write("iterations.csv", header, [[row[h] for h in header]])
