"""Learning-rate schedules beyond fastai's fit methods, as functions of fastai's `pct_train`."""
from __future__ import annotations


def step_schedule(lr: float, factor: float, every: int, n_epoch: int):
    """`lr * factor**k` during the k-th block of `every` epochs (seed 002's step schedule).

    fastai's ParamScheduler calls it with the fraction of training done, which fastai sets from the
    epoch at each epoch start, so a fit with `start_epoch` gets the rate of the right step.
    """
    def sched(pos: float) -> float:
        return lr * factor ** (int(pos * n_epoch + 1e-6) // every)

    return sched
