"""What every fashionseg callback shares: the epochs a resumed fit replays."""
from __future__ import annotations

from fastai.learner import SkipToEpoch


def skipped_epoch(learn) -> bool:
    """True during an epoch that fastai's `start_epoch` skips (a resumed run replaying its past)."""
    return any(isinstance(cb, SkipToEpoch) and learn.epoch < cb._skip_to for cb in getattr(learn, "cbs", ()))
