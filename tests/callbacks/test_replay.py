"""A run that validates on its test set scores the test set from its last validation pass instead of predicting
every item a second time, with the same results as predicting again; a model changed after that pass, another
loader, an unfinished pass or autocast predictions make it predict again."""
import pytest
import torch
from fastai.callback.core import Callback
from fastai.test_utils import synth_learner
from helpers.runs import fashion_recipe, train
from helpers.scores import assert_same, recorded_test_metrics, scored_again

import fashionseg.infer.evaluate
from fashionseg.callbacks.precision import Autocast
from fashionseg.callbacks.replay import KeepValidation


def fitted(*cbs, batches: int = 3) -> tuple:
    """A fastai synthetic learner fitted one epoch with a `KeepValidation` (and `cbs`)."""
    keep = KeepValidation()
    learn = synth_learner(n_trn=4, n_val=batches, cbs=[keep, *cbs])  # synth batches hold 16 items each
    learn.fit(1)
    return learn, keep


def test_the_last_validation_pass_is_kept_while_the_model_is_unchanged():
    learn, keep = fitted()
    batches = keep.batches_for(learn.model, learn.dls.valid)
    assert len(batches) == len(learn.dls.valid) == 3
    inputs, logits, targets = map(torch.cat, zip(*batches))
    assert torch.equal(inputs, torch.cat([x for x, _ in learn.dls.valid]))
    with torch.no_grad():
        assert torch.allclose(logits, learn.model(inputs))
    assert keep.batches_for(learn.model, learn.dls.train) is None  # another loader's pass was never kept
    with torch.no_grad():
        learn.model.a.data.add_(1.0)  # as fastai's optimizer steps: no version counter moves
    assert keep.batches_for(learn.model, learn.dls.valid) is None


class CancelValidation(Callback):
    def after_batch(self):
        if not self.training and self.iter == 1:
            from fastai.callback.core import CancelValidException
            raise CancelValidException


def test_an_unfinished_pass_autocast_or_too_many_bytes_keep_nothing():
    learn, keep = fitted(CancelValidation())
    assert keep.batches_for(learn.model, learn.dls.valid) is None
    learn, keep = fitted(Autocast("cpu", torch.bfloat16))
    assert keep.batches_for(learn.model, learn.dls.valid) is None
    keep = KeepValidation(limit_bytes=100)
    learn = synth_learner(n_trn=4, n_val=3, cbs=[keep])
    learn.fit(1)
    assert keep.batches_for(learn.model, learn.dls.valid) is None


class Passes:
    """Wraps `fashionseg.infer.evaluate.evaluate` to record whether each call scored kept batches."""

    def __init__(self, monkeypatch):
        self.kept, original = [], fashionseg.infer.evaluate.evaluate

        def spy(*args, **kwargs):
            self.kept.append(kwargs.get("batches", args[9] if len(args) > 9 else None) is not None)
            return original(*args, **kwargs)

        monkeypatch.setattr(fashionseg.infer.evaluate, "evaluate", spy)


class ChangeAfterFit(Callback):
    order = 100

    def after_fit(self):
        with torch.no_grad():
            next(self.model.parameters()).data.mul_(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("change", [False, True])
def test_a_run_scores_its_test_set_from_the_last_validation_unless_the_model_changed(change, tmp_path, monkeypatch,
                                                                                       fashion_mnist_dir):
    passes = Passes(monkeypatch)
    recipe = fashion_recipe().override(limit=256, eval_limit=96, metrics=["accuracy", "per-class-accuracy"])
    run = train(recipe, tmp_path / "runs", cbs=[ChangeAfterFit()] if change else ()).run
    assert passes.kept == [not change]  # predicted again only when the weights differ from the validated ones
    recorded = recorded_test_metrics(run.read_json("metrics.json"))
    assert sum(map(sum, recorded["confusion_matrix"])) == 96
    results, _ = scored_again(run.path)  # the saved weights predicting every test item again
    assert_same(recorded, recorded_test_metrics(results))


@pytest.mark.slow
def test_test_time_augmentation_predicts_the_test_set_again(tmp_path, monkeypatch, fashion_mnist_dir):
    passes = Passes(monkeypatch)
    train(fashion_recipe().override(limit=128, eval_limit=32, tta=True), tmp_path / "runs")
    assert passes.kept == [False]
