"""Runs that survive: `last.pth` written at every epoch end (model, optimizer, RNG states, training
clock, best-k bookkeeping), read back with `weights_only=True` to continue the run where it stopped,
and SIGTERM/SIGINT turned into a clean stop after the current batch."""
from __future__ import annotations

import io
import random
import signal
import threading
from contextlib import contextmanager

import numpy as np
import torch
from fastai.callback.core import Callback, CancelFitException
from fastai.learner import SkipToEpoch
from fastai.torch_core import get_model

from .distributed import largest, unsharded
from .errors import FashionsegError
from .rank import is_main
from .runfolder import RunFolder, atomic_write, run_state
from .weights import Unreadable, torch_load

LAST = "last.pth"
KEYS = {"epochs_done", "model", "opt", "rng", "train_seconds", "best"}
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def skipped_epoch(learn) -> bool:
    """True during an epoch that fastai's `start_epoch` skips (a resumed run replaying its past)."""
    return any(isinstance(cb, SkipToEpoch) and learn.epoch < cb._skip_to for cb in getattr(learn, "cbs", ()))


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

    order = 65

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


def resumable(path) -> tuple[RunFolder, dict]:
    """The run folder and its last.pth, or one clear error: not a run, finished, still running, no last.pth."""
    folder = RunFolder.open(path)
    state = run_state(folder.path)
    if state == "finished":
        raise FashionsegError(f"{folder.path} finished; nothing to resume (train it again with "
                              f"`fashionseg train --from {folder.path}`)")
    if state == "running":
        raise FashionsegError(f"{folder.path} is still running (see status.json); stop it before resuming")
    return folder, load_last(folder)


def load_last(folder: RunFolder) -> dict:
    """last.pth, read with weights_only=True; one line naming the file if it is missing, damaged or foreign."""
    path, again = folder.path / LAST, f"train it again with `fashionseg train --from {folder.path}`"
    if not path.is_file():
        raise FashionsegError(f"{path} is missing: the run stopped before its first epoch began; {again}")
    try:
        state = torch_load(path)
    except Unreadable as exc:
        reason = (f"it holds {exc.refused}, and a checkpoint holds only tensors and plain values" if exc.refused
                  else exc.reason)
    else:
        if isinstance(state, dict) and KEYS <= set(state):
            return state
        reason = "it is not a fashionseg last.pth"
    raise FashionsegError(f"cannot resume from {path}: {reason}; {again}")


def restore(learn, state: dict):
    """Model weights, optimizer state, training clock and weight EMA from last.pth, before fit (the best-k list:
    `BestCheckpoints.restore`)."""
    from fastai.optimizer import Optimizer

    try:
        learn.model.load_state_dict(state["model"])
        learn.create_opt()
        learn.opt.load_state_dict(state["opt"])
    except (RuntimeError, ValueError, KeyError, AssertionError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise FashionsegError(f"last.pth does not fit the model and optimizer of this run's config.json ({first}); "
                              "was it copied from another run?") from None
    if isinstance(learn.opt, Optimizer):  # fastai's own optimizer keeps state where it was loaded
        learn.opt.state = {p: {k: v.to(p.device) if torch.is_tensor(v) else v for k, v in s.items()}
                           for p, s in learn.opt.state.items()}
    learn.train_clock.start_seconds = state["train_seconds"]
    if "ema" in state and getattr(learn, "weight_ema", None) is not None:
        learn.weight_ema.restore(state["ema"])


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by SIGTERM or SIGINT after its current batch; `exit_code` is 128 + the signal."""

    def __init__(self, signum: int, command: str):
        self.signal, self.command = signal.Signals(signum).name, command
        self.exit_code = 128 + signum
        super().__init__(f"{self.signal}: resume with {command}")


class StopOnSignal(Callback):
    """SIGTERM and SIGINT set a flag; the batch under way finishes, then fit stops (fastai's
    CancelFitException). A second signal stops at once. Launched on several processes, a signal to
    any of them stops them all after the same batch (the flag is combined across ranks)."""

    order = 66

    def __init__(self):
        self.received = None

    def handle(self, signum, frame):
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signum

    def after_batch(self):
        received = largest(self.received or 0)
        if received:
            self.received = received
            raise CancelFitException

    @contextmanager
    def installed(self):
        """The handlers for the duration of the block, in the main thread only; the previous ones after."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self.handle) for s in SIGNALS}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
