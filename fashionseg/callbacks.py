"""fastai callbacks: a rich live epoch table with a progress bar, and the epoch CSV."""
from __future__ import annotations

import time

from fastai.callback.core import Callback
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


class RichProgress(Callback):
    """Replaces fastai's progress bar: a live rich table of epochs above a batch bar."""

    order = 61

    def __init__(self, console: Console | None = None, title: str = "training"):
        self.console = console or Console()
        self.title = title
        self.active = False

    def before_fit(self):
        self.active = True
        self.learn.logger = lambda *_: None
        self.table = Table(title=self.title, title_justify="left")
        for name in self.recorder.metric_names:
            self.table.add_column(name, justify="right")
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.console,
        )
        self.live = Live(Group(self.table, self.progress), console=self.console, refresh_per_second=4)
        self.live.start()
        self.task = None

    def _start_bar(self, dl, label):
        if self.task is not None:
            self.progress.remove_task(self.task)
        desc = f"epoch {self.epoch + 1}/{self.n_epoch} {label}"
        self.task = self.progress.add_task(desc, total=len(dl), loss="")

    def before_train(self):
        self._start_bar(self.dl, "train")

    def before_validate(self):
        if self.active:
            self._start_bar(self.dl, "valid")

    def after_batch(self):
        if not self.active:
            return
        loss = f"loss {float(self.smooth_loss):.4f}" if self.training and self.iter % 10 == 0 else None
        if loss is None:
            self.progress.advance(self.task)
            return
        self.progress.update(self.task, advance=1, loss=loss)

    def after_epoch(self):
        if not hasattr(self.learn, "lr_finder"):  # lr_find's mock epochs have no scores
            self.table.add_row(*[_fmt(v) for v in self.recorder.log])

    def after_fit(self):
        if not self.active:
            return
        self.active = False
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.live.stop()
        self.console.print()

    after_cancel_fit = after_fit


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
