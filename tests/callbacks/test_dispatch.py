"""fashionseg's Learner dispatches per-batch events only to the callbacks that handle them: every callback sees
the same events, in the same order, as under fastai's own Learner, and the fit ends with the same weights."""
import pytest
import torch
from fastai.callback.core import Callback, CancelBatchException
from fastai.learner import Learner as FastaiLearner

from fashionseg.callbacks.dispatch import Learner
from tests.helpers.learners import toy_learner


class Log(Callback):
    """Records every event it handles, by name; per-batch ones with the iteration and training flag."""

    def __init__(self, log, tag):
        self.events, self.tag = log, tag

    def before_batch(self):
        self.events.append((self.tag, "before_batch", self.iter, self.training))

    def after_loss(self):
        self.events.append((self.tag, "after_loss", self.iter, self.training))

    def after_step(self):
        self.events.append((self.tag, "after_step", self.iter))

    def after_epoch(self):
        self.events.append((self.tag, "after_epoch", self.epoch))


class TrainOnly(Log):
    run_valid = False
    order = 5


class SkipsSecondBatch(Callback):
    """Cancels batch 1 of training after its loss: `after_cancel_batch` follows, no backward or step."""
    order = 7

    def __init__(self, log):
        self.events = log

    def after_loss(self):
        if self.training and self.iter == 1:
            raise CancelBatchException()

    def after_cancel_batch(self):
        self.events.append(("skip", "after_cancel_batch", self.iter))


class AddsOneMidFit(Callback):
    """After the first epoch, adds a logging callback and removes itself: the next events must reach it."""
    order = 90

    def __init__(self, log):
        self.events = log

    def after_epoch(self):
        if self.epoch == 0:
            self.learn.add_cb(Log(self.events, "late"))
            self.learn.remove_cb(self)


def fitted(learner_class):
    log = []
    by_kwargs = Callback(after_pred=lambda cb: log.append(("kw", "after_pred")))  # a handler set on the instance
    cbs = [Log(log, "a"), TrainOnly(log, "t"), SkipsSecondBatch(log), AddsOneMidFit(log), by_kwargs]
    learn = toy_learner(bs=8, cbs=cbs, learner=learner_class)
    learn.fit(2)
    return learn, log


def test_each_callback_sees_the_events_it_handles_as_under_fastai():
    ours, ours_log = fitted(Learner)
    theirs, theirs_log = fitted(FastaiLearner)
    assert type(ours) is Learner and isinstance(ours, FastaiLearner)
    assert ours_log == theirs_log
    tags = {entry[0] for entry in ours_log}
    assert tags == {"a", "t", "skip", "kw", "late"}  # each kind of callback was called at all
    assert ("t", "before_batch", 0, False) not in ours_log  # run_valid=False holds
    assert [e for e in ours_log if e[0] == "skip"] == [("skip", "after_cancel_batch", 1)] * 2
    assert ("a", "after_step", 1) not in ours_log  # the cancelled batch took no step
    for p, q in zip(ours.model.parameters(), theirs.model.parameters()):
        assert torch.equal(p, q)


def test_an_error_in_a_per_batch_handler_still_names_its_callback():
    class Breaks(Callback):
        def after_loss(self):
            raise ValueError("boom")

    learn = toy_learner(bs=8, cbs=[Breaks()], learner=Learner)
    with pytest.raises(ValueError, match="Exception occured in `Breaks` when calling event `after_loss`"):
        learn.fit(1)
