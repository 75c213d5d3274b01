"""Training progress on the console: a live rich table of epochs above a batch bar in a
terminal; one plain line per epoch, written as the epoch ends, when the output is a file."""
from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

from fastai.callback.core import Callback
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from fashionseg.callbacks.core import ORDER, skipped_epoch
from fashionseg.report.tables import fmt
from fashionseg.utils.console import console as make_console


class RichProgress(Callback):
    """Replaces fastai's progress bar; `live` is the console's `is_terminal` unless given."""

    order = ORDER["RichProgress"]

    def __init__(self, console: Console | None = None, title: str = "training", live: bool | None = None):
        self.console = console or make_console()
        self.title = title
        self.live_view = self.console.is_terminal if live is None else live
        self.active = False

    def before_fit(self):
        self.learn.logger = lambda *_: None
        self.started = time.perf_counter()
        if not self.live_view:
            return
        self.active = True
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
        if self.active:
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
        if hasattr(self.learn, "lr_finder") or skipped_epoch(self.learn):  # no scores: lr_find's mock
            return                                                         # epochs, a resumed run's past
        if self.live_view:
            self.table.add_row(*[fmt(v) for v in self.recorder.log])
        else:
            self.console.print(self.epoch_line(), markup=False, highlight=False, soft_wrap=True)

    def epoch_line(self) -> str:
        """`epoch 2/5  train_loss 0.4123  valid_loss 0.3981  accuracy 0.8712  elapsed 0:00:42`"""
        scores = [f"{name} {fmt(v)}" for name, v in zip(self.recorder.metric_names, self.recorder.log)
                  if name not in ("epoch", "time")]
        elapsed = timedelta(seconds=round(time.perf_counter() - self.started))
        return "  ".join([f"epoch {self.epoch + 1}/{self.n_epoch}", *scores, f"elapsed {elapsed}"])

    def after_fit(self):
        self.close()

    after_cancel_fit = after_fit

    def close(self):
        """Stop the live view, if it runs (fastai calls `after_fit` only when a fit ends or is cancelled; an
        error ends it without, and a live view left running keeps the terminal's cursor hidden)."""
        if not self.active:
            return
        self.active = False
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.live.stop()
        self.console.print()


@contextmanager
def progress_closed(learn):
    """Around a fit: whatever ends it (an error, a signal), the live progress views stop before the error prints."""
    try:
        yield
    finally:
        for cb in learn.cbs:
            if isinstance(cb, RichProgress):
                cb.close()
