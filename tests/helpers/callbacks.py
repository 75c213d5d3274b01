"""Callbacks that interrupt a fit on cue, as a user or the system would."""
from fastai.callback.core import Callback


class StopInEpoch(Callback):
    """A Ctrl-C during the given epoch."""

    def __init__(self, epoch):
        self.at = epoch

    def after_batch(self):
        if self.epoch == self.at:
            raise KeyboardInterrupt
