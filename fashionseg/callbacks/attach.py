"""Which callbacks a Learner gets, in one place: those every Learner of a recipe needs (a notebook's too),
and those a run adds to write its folder. fastai calls them in the order of `core.ORDER`."""
from __future__ import annotations

from fastai.callback.core import Callback

from fashionseg.callbacks.checkpoints import BestCheckpoints, LastCheckpoint
from fashionseg.callbacks.clock import Heartbeat, TrainClock
from fashionseg.callbacks.ema import WeightEMA
from fashionseg.callbacks.gradients import AccumulateGradients, ClipGradients
from fashionseg.callbacks.logs import EpochCSV, IterationLog
from fashionseg.callbacks.mixing import MixBatch
from fashionseg.callbacks.precision import precision_callbacks
from fashionseg.callbacks.progress import RichProgress
from fashionseg.callbacks.replay import KeepValidation
from fashionseg.callbacks.resize import ProgressiveResize
from fashionseg.callbacks.snapshots import EpochSnapshots
from fashionseg.callbacks.stopping import EarlyStop, NonFiniteStop, StopOnSignal
from fashionseg.registry.plugins import registry
from fashionseg.utils.distributed import launched


def learner_callbacks(recipe, on, n_classes: int = 0) -> list[Callback]:
    """What training a recipe needs wherever it runs: the clock, the non-finite guard, early stopping,
    mixed precision on device `on`, progressive resizing, weight EMA, gradient accumulation and clipping, and
    MixUp/CutMix over `n_classes`, as the recipe asks."""
    cbs = [TrainClock(), NonFiniteStop(recipe.precision), *precision_callbacks(recipe.precision, on)]
    if int(recipe.accumulate) > 1:
        cbs.append(AccumulateGradients(int(recipe.accumulate), int(recipe.bs)))
    if float(recipe.clip):
        cbs.append(ClipGradients(float(recipe.clip)))
    if float(recipe.mixup) or float(recipe.cutmix):
        cbs.append(MixBatch(recipe.mixup, recipe.cutmix, n_classes, recipe.label_smoothing))
    if recipe.early_stop:
        cbs.append(EarlyStop(monitor=recipe.monitor, patience=recipe.early_stop))
    if recipe.sizes:
        cbs.append(ProgressiveResize(recipe.sizes))
    if float(recipe.ema):
        cbs.append(WeightEMA(recipe.ema))
    return cbs


def run_callbacks(run, recipe, data, console, title: str, stop: StopOnSignal, state: dict | None = None
                  ) -> list[Callback]:
    """What a run adds to write its folder: metrics.csv, the heartbeat, iterations.csv, the best-k
    checkpoints, snapshots, last.pth (continuing `state`, a last.pth, when resuming), the runner's `stop`
    on a signal and the console progress; and, when the test set is the validation set predicted as in
    validation (no TTA or tiles, float32, one process), the last validation pass kept for the test evaluation."""
    resuming = state is not None
    cbs = [EpochCSV(run, resume=resuming), Heartbeat(run), IterationLog(run, recipe.log_every, resume=resuming)]
    if recipe.keep_best:
        cbs.append(BestCheckpoints(run, recipe.keep_best))
    if recipe.show_epochs:
        probabilities = registry().task(data.task).probabilities  # softmax for classes, sigmoid for labels
        cbs.append(EpochSnapshots(run, recipe.show_epochs, recipe.show_items, data.classes, data.colors, data.stats,
                                  probabilities))
    if data.test_is_valid and not recipe.tta and not recipe.tile and recipe.precision == "32" and not launched():
        cbs.append(KeepValidation())
    return [*cbs, LastCheckpoint(run, state), stop, RichProgress(console, title=title)]
