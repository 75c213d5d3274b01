"""Continuing a stopped run from its last.pth: the checks, and the model, optimizer, clock and EMA put back
before fit."""
from __future__ import annotations

import torch

from fashionseg.callbacks.checkpoints import KEYS, LAST
from fashionseg.errors import FashionsegError
from fashionseg.models.weights import Unreadable, torch_load
from fashionseg.run_folders.folder import RunFolder
from fashionseg.run_folders.state import run_state


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
