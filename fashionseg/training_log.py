"""Training charts: loss and metrics every N iterations (iterations.csv and a PNG); TensorBoard
event files are one of the trackers (`fashionseg.trackers`)."""
from __future__ import annotations

import copy

from fastai.callback.core import Callback
from fastai.torch_core import maybe_gather

from .runfolder import RunFolder


class IterationLog(Callback):
    """Every `every` training iterations, the mean loss and training metrics over them, in iterations.csv.

    A fresh fit starts the file over. With `resume=True` it continues the file: iterations count on
    from the epochs fastai's `start_epoch` skips, and rows for iterations the file already records
    are not written again.
    """

    order = 62

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


def training_callbacks(run: RunFolder, recipe, resume: bool = False) -> list[Callback]:
    """The logging and checkpoint callbacks a recipe asks for; `resume` continues iterations.csv."""
    from .checkpoints import BestCheckpoints

    cbs = [IterationLog(run, recipe.log_every, resume=resume)]
    if recipe.keep_best:
        cbs.append(BestCheckpoints(run, recipe.keep_best))
    return cbs


def training_curves(iterations: list[dict], epochs: list[dict]):
    """Loss (left) and metrics (right) against epochs: lines every N iterations, dots per epoch."""
    from .plots import plt

    metrics = [k for k in (epochs[0] if epochs else {}) if f"train_{k}" in iterations[0]]
    fig, axes = plt.subplots(1, 2 if metrics else 1, figsize=(12 if metrics else 7, 4), squeeze=False)
    loss_ax = axes[0, 0]
    loss_ax.plot([r["epoch"] for r in iterations], [r["train_loss"] for r in iterations], label="train, every N iterations")
    ends = [r["epoch"] + 1 for r in epochs]
    for name in ("train_loss", "valid_loss"):
        loss_ax.plot(ends, [r[name] for r in epochs], "o", label=f"{name.split('_')[0]}, per epoch")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    for name in metrics:
        ax = axes[0, 1]
        line = ax.plot([r["epoch"] for r in iterations], [r.get(f"train_{name}") for r in iterations],
                       label=f"train {name}, every N iterations")[0]
        ax.plot(ends, [r[name] for r in epochs], "o", color=line.get_color(), label=f"valid {name}, per epoch")
        ax.set(xlabel="epoch", title="Metrics")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig
