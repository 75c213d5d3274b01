"""Checkpoints written while training.

`last.pth` at every epoch end (model, optimizer, RNG states, training clock, best-k bookkeeping),
read back with `weights_only=True` to continue a run where it stopped (`fashionseg.engine.resume`).

The k checkpoints with the lowest validation loss, kept for ensembles: each is a `state_dict` in
`checkpoints/`; `checkpoints.json` lists them, best first. A new
file is written before the list names it, and an evicted one is deleted only after the
list stops naming it, so the list never points at a missing file.
"""
from __future__ import annotations

import io
import math
import random

import numpy as np
import torch
from fastai.callback.core import Callback
from fastai.torch_core import get_model

from fashionseg.callbacks.core import ORDER, skipped_epoch
from fashionseg.errors import FashionsegError
from fashionseg.run_folders.folder import RunFolder
from fashionseg.utils.distributed import unsharded
from fashionseg.utils.files import atomic_write
from fashionseg.utils.rank import is_main

LAST = "last.pth"
KEYS = {"epochs_done", "model", "opt", "rng", "train_seconds", "best"}
INDEX = "checkpoints.json"


class BestCheckpoints(Callback):
    """After each epoch, keep the model if its validation loss is among the `k` lowest so far."""

    order = ORDER["BestCheckpoints"]

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


def rng_states(learn) -> dict:
    """Every random state training draws from, as plain lists and tensors (loadable with weights_only)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {"python": [version, list(internal), gauss_next],
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "loaders": [list(dl.rng.getstate()[1]) for dl in shuffling(learn)]}


def shuffling(learn) -> list:
    """The data loaders with their own random generator (fastai's draw their order from it; in
    multi-process training, rank 0's draws the order of every shard)."""
    loaders = [unsharded(dl) for dl in learn.dls.loaders]
    return [dl for dl in loaders if isinstance(getattr(dl, "rng", None), random.Random)]


def set_rng_states(learn, states: dict):
    """Put back what `rng_states` saved, so data order, augmentation and dropout continue exactly."""
    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    for dl, internal in zip(shuffling(learn), states["loaders"]):
        dl.rng.setstate((version, tuple(internal), None))


def plain(obj):
    """`obj` with numpy scalars made Python numbers and fastai's `L` a list: what weights_only loads."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) or type(obj).__name__ == "L":
        return [plain(v) for v in obj]
    return obj


class LastCheckpoint(Callback):
    """Writes `last.pth` before the first epoch and after every complete epoch; on a resumed run,
    puts the RNG states back when the first epoch to train again begins.

    Order 65: after EpochCSV (62), BestCheckpoints (63) and Heartbeat (64), so a checkpoint always
    has its metrics.csv row and checkpoint list; before fastai's SkipToEpoch (70).
    """

    order = ORDER["LastCheckpoint"]

    def __init__(self, folder: RunFolder, state: dict | None = None):
        self.folder, self.state = folder, state

    def before_epoch(self):
        if self.state is None and self.epoch == 0:
            self.save(0)
        elif self.state is not None and self.epoch == self.state["epochs_done"]:
            set_rng_states(self.learn, self.state["rng"])

    def after_epoch(self):
        if not skipped_epoch(self.learn):
            self.save(self.epoch + 1)

    def save(self, epochs_done: int):
        if not is_main():
            return
        best = getattr(self.learn, "best_checkpoints", None)
        model = get_model(self.model)  # without DDP's wrapper in multi-process training
        state = {"epochs_done": epochs_done, "model": model.state_dict(), "opt": plain(self.opt.state_dict()),
                 "rng": rng_states(self.learn), "train_seconds": float(getattr(self.learn, "train_seconds", 0.0)),
                 "best": plain(best.kept) if best is not None else []}
        ema = getattr(self.learn, "weight_ema", None)
        if ema is not None and ema.ema is not None:
            state["ema"] = ema.state()
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write(self.folder.path / LAST, buf.getvalue())
