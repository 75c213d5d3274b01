"""What every fashionseg callback shares: the one table of the order fastai calls them in, and the
epochs a resumed fit replays."""
from __future__ import annotations

from fastai.learner import SkipToEpoch

# The order of every fashionseg callback at each event (fastai calls lower first), with fastai's own as
# landmarks: TrainEvalCallback -10, ChannelsLast -1, MixedPrecision 10, Recorder 50, ParamScheduler 60,
# SkipToEpoch 70. Each callback class takes its `order` from here; tests/callbacks/test_order.py states
# the relations that matter.
ORDER = {
    "NonFiniteStop": -9,  # a nan/inf loss stops the batch before the Recorder and the progress bar see it
    "MlflowTracker": 0,  # trackers open their run before the clocks start (a new SQLite store takes seconds)
    "WandbRun": 0,  # ... and before fastai's WandbCallback, which needs the run open
    "ProgressiveResize": 0,  # the epoch's input size is set before its first batch
    "TrainClock": 1,  # times training phases only, from before anything else of the epoch
    "FreezeBody": 5,  # freezes or unfreezes before the epoch's batches and ParamScheduler's first step
    "AccumulateGradients": 6,  # as fastai's GradientAccumulation: skips the step before the grad scaler sees it
    "MixBatch": 7,  # mixes the batch after ProgressiveResize (0), before autocast; labels back before metrics
    "Autocast": 10,  # as fastai's MixedPrecision: around the forward pass and the loss
    "ClipGradients": 11,  # as fastai's GradientClip: clips once fp16's scaler has unscaled the gradients
    "KeepValidation": 51,  # keeps validation predictions as float32 (Autocast, 10) as the Recorder (50) saw them
    "RichProgress": 61,  # prints an epoch's row once the Recorder (50) has its numbers
    "EpochCSV": 62,  # writes the epoch's row of metrics.csv ...
    "IterationLog": 62,
    "BestCheckpoints": 63,  # ... before a checkpoint is kept for that epoch
    "EpochSnapshots": 63,
    "MlflowEpochs": 63,  # logs the epoch's row once it is in metrics.csv
    "Heartbeat": 64,  # status.json says the epoch is done only after its files are written
    "WeightEMA": 64.5,  # averaged weights in from before_validate through the writers above, raw ones back ...
    "LastCheckpoint": 65,  # ... before last.pth saves the state training continues from
    "EarlyStop": 65,  # judges the epoch after every per-epoch writer saw it
    "PruneTrial": 65,  # a tuning trial's pruner, like early stopping, after the epoch's files are written
    "StopOnSignal": 66,  # stops after the batch, once last.pth is consistent; before SkipToEpoch (70)
}


def skipped_epoch(learn) -> bool:
    """True during an epoch that fastai's `start_epoch` skips (a resumed run replaying its past)."""
    return any(isinstance(cb, SkipToEpoch) and learn.epoch < cb._skip_to for cb in getattr(learn, "cbs", ()))
