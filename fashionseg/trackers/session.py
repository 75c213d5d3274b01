"""The recipe's trackers for one run: attached on rank 0, continued when resuming, ended with how the run
ended (finished, failed, killed)."""
from __future__ import annotations

import warnings
from contextlib import contextmanager

from fastai.callback.core import Callback

from fashionseg.run_folders.folder import RunFolder
from fashionseg.trackers.base import Tracker
from fashionseg.trackers.mlflow import MlflowEpochs, MlflowTracker
from fashionseg.trackers.tensorboard import tensorboard_callback
from fashionseg.trackers.wandb import WandbRun
from fashionseg.utils.rank import is_main


@contextmanager
def tracking(folder: RunFolder, built, state: dict | None = None):
    """The recipe's trackers attached to `built.learn` for one run (on rank 0 only), continuing the run's
    tracker runs when resuming from `state` (its last.pth); each is ended with how the run ended:
    finished, failed, or killed (interrupted by a signal or Ctrl-C)."""
    names = built.recipe.track if is_main() else []
    cbs = [cb for name in names for cb in tracker_callbacks(name, folder, built, state)]
    built.learn.add_cbs(cbs)
    try:
        yield
    except BaseException as exc:
        end_all(cbs, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    end_all(cbs, "FINISHED")


def end_all(cbs: list[Callback], status: str):
    """End every tracker; one that fails warns, so it neither hides the run's own error nor fails a finished run."""
    for cb in cbs:
        if isinstance(cb, Tracker):
            try:
                cb.end(status)
            except Exception as exc:
                warnings.warn(f"{type(cb).__name__} could not end its run: {type(exc).__name__}: {exc}", stacklevel=2)


def tracker_callbacks(name: str, folder: RunFolder, built, state: dict | None) -> list[Callback]:
    if name == "mlflow":
        tracker = MlflowTracker(folder, built, resume=state is not None)
        return [tracker, MlflowEpochs(tracker)]
    if name == "wandb":
        from fashionseg.trackers.wandb_log import WandbLog

        return [WandbRun(folder, built, resume=state is not None), WandbLog(state["epochs_done"] if state else 0)]
    return [tensorboard_callback(folder)]
