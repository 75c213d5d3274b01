"""The k checkpoints with the lowest validation loss, kept during training for ensembles.

Each is a `state_dict` in `checkpoints/`; `checkpoints.json` lists them, best first. A new
file is written before the list names it, and an evicted one is deleted only after the
list stops naming it, so the list never points at a missing file.
"""
from __future__ import annotations

import math

from fastai.callback.core import Callback
from fastai.torch_core import get_model

from .errors import FashionsegError
from .resume import skipped_epoch
from .runfolder import RunFolder

INDEX = "checkpoints.json"


class BestCheckpoints(Callback):
    """After each epoch, keep the model if its validation loss is among the `k` lowest so far."""

    order = 63

    def __init__(self, run: RunFolder, k: int):
        self.folder, self.k = run, k  # not `self.run`: fastai resets that flag after a fit
        self.restored: list[dict] = []

    def restore(self, kept: list[dict]):
        """Continue a resumed run's list (from its last.pth); entries whose file is gone are dropped."""
        self.restored = [e for e in kept if (self.folder.path / e["file"]).is_file()]

    def before_fit(self):
        self.kept: list[dict] = list(self.restored)

    def after_epoch(self):
        if skipped_epoch(self.learn):
            return
        loss = self.valid_loss()
        if math.isnan(loss) or (len(self.kept) == self.k and loss >= self.kept[-1]["valid_loss"]):
            return
        entry = {"epoch": self.epoch, "valid_loss": loss, "file": f"checkpoints/epoch-{self.epoch:03d}.pth"}
        self.folder.save_weights(get_model(self.model), entry["file"])  # without DDP's wrapper
        self.kept = sorted(self.kept + [entry], key=lambda e: e["valid_loss"])
        evicted = self.kept[self.k:]
        self.kept = self.kept[: self.k]
        self.folder.write_json(INDEX, {"k": self.k, "monitor": "valid_loss", "checkpoints": self.kept})
        for e in evicted:
            self.folder.remove(e["file"])

    def valid_loss(self) -> float:
        names = list(self.recorder.metric_names)
        return float(self.recorder.log[names.index("valid_loss")])


def best_checkpoints(run: RunFolder, k: int) -> list[dict]:
    """The `k` best checkpoints of a run, best first; an error if it kept fewer."""
    if not (run.path / INDEX).is_file():
        raise FashionsegError(f"{run.path} kept no checkpoints; train with keep_best > 0 (e.g. --keep-best 5)")
    kept = run.read_json(INDEX)["checkpoints"]
    if k < 1 or k > len(kept):
        raise FashionsegError(f"{run.path} kept {len(kept)} checkpoints; choose an ensemble size from 1 to {len(kept)}")
    return kept[:k]
