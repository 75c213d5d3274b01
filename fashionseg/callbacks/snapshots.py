"""Seeing training happen: predictions on a few fixed validation images at chosen epochs, saved in
the run folder (`snapshots/`) and drawn as a grid, one row per image, one column per epoch."""
from __future__ import annotations

import io

import numpy as np
import torch
from fastai.callback.core import Callback
from PIL import Image

from fashionseg.callbacks.core import ORDER
from fashionseg.data import denormalize
from fashionseg.run_folders.folder import RunFolder
from fashionseg.utils.files import atomic_write
from fashionseg.utils.rank import is_main

FIGURE = "training_snapshots"
TOP = 3  # labels kept per image for a classifier


class EpochSnapshots(Callback):
    """At the end of each epoch in `epochs` (0 is the first, as in metrics.csv), rank 0 predicts the
    first `n_items` validation images and saves the predictions: index masks `snapshots/epoch-E/item-I.png`
    for score maps, rows of `snapshots/top3.csv` for class scores. After fit, the grid figure."""

    order = ORDER["EpochSnapshots"]

    def __init__(self, run: RunFolder, epochs, n_items: int, classes: list[str], colors=None, stats=None,
                 probabilities=None):
        self.folder, self.epochs, self.n_items = run, sorted(set(int(e) for e in epochs)), n_items
        self.classes, self.colors, self.stats = classes, colors, stats
        self.probabilities = probabilities or (lambda output: output.float().softmax(1))  # the task's
        self.figure = None

    def before_fit(self):
        if hasattr(self.learn, "lr_finder") or hasattr(self.learn, "gather_preds") or not is_main():
            return
        xb, yb = self.dls.valid.one_batch()
        self.xb, self.yb = xb[: self.n_items], yb[: self.n_items].as_subclass(torch.Tensor).cpu()
        plain = self.xb.as_subclass(torch.Tensor).float()  # fastai's tensor types do not load with weights_only
        images = (denormalize(plain, self.stats) * 255).round().to(torch.uint8).cpu()
        buffer = io.BytesIO()
        torch.save({"images": images, "targets": self.yb}, buffer)
        atomic_write(self.folder.path / "snapshots" / "items.pt", buffer.getvalue())

    @torch.no_grad()
    def after_epoch(self):
        if self.epoch not in self.epochs or not is_main() or not hasattr(self, "xb"):
            return
        if self.epoch in saved_epochs(self.folder):  # an epoch a resumed fit skips: saved before the stop
            return
        model = getattr(self.model, "module", self.model)  # a DDP wrapper would wait for the other ranks
        model.eval()
        probs = self.probabilities(model(self.xb)).cpu()
        if probs.ndim == 4:
            for i, mask in enumerate(probs.argmax(1)):
                atomic_write(self.folder.path / "snapshots" / f"epoch-{self.epoch}" / f"item-{i}.png", png(mask))
        else:
            top = probs.topk(min(TOP, probs.shape[1]), dim=1)
            rows = [[self.epoch, i] + [v for c, p in zip(ci, pi) for v in (self.classes[int(c)], round(float(p), 4))]
                    for i, (ci, pi) in enumerate(zip(top.indices, top.values))]
            header = ["epoch", "item"] + [f"{k}{n}" for n in range(1, top.indices.shape[1] + 1) for k in ("label", "p")]
            self.folder.append_csv("snapshots/top3.csv", header, rows)

    def after_fit(self):
        if is_main() and hasattr(self, "xb"):
            self.figure = self.folder.save_figure(snapshot_grid(self.folder, self.classes, self.colors), FIGURE)


def png(mask: torch.Tensor) -> bytes:
    """Class indices `(H, W)` as a grey PNG."""
    buffer = io.BytesIO()
    Image.fromarray(mask.to(torch.uint8).numpy(), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def saved_epochs(run: RunFolder) -> list[int]:
    """The epochs whose predictions the run folder holds (a resumed run's earlier ones too)."""
    rows = run.read_csv("snapshots/top3.csv")
    if rows:
        return sorted({int(r["epoch"]) for r in rows})
    return sorted(int(p.name.split("-")[1]) for p in (run.path / "snapshots").glob("epoch-*"))


def snapshot_grid(run: RunFolder, classes: list[str], colors=None):
    """The figure of what the run folder's snapshots/ holds: the fixed images and each saved epoch's predictions."""
    from fashionseg.report.figures import snapshots_figure

    items = torch.load(run.path / "snapshots" / "items.pt", weights_only=True)
    labels = {(int(r["epoch"]), int(r["item"])): r for r in run.read_csv("snapshots/top3.csv")}

    def predicted(epoch: int, i: int):
        """A mask (class indices) for dense targets; else the epoch's top labels as (label, probability)."""
        if items["targets"].ndim == 3:
            return torch.from_numpy(np.array(Image.open(run.path / "snapshots" / f"epoch-{epoch}" / f"item-{i}.png")))
        r = labels[(epoch, i)]
        return [(str(r[f"label{n}"]), float(r[f"p{n}"])) for n in range(1, TOP + 1) if f"label{n}" in r]

    return snapshots_figure(items["images"], items["targets"], saved_epochs(run), predicted, classes, colors)
