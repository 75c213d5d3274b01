"""Gradient accumulation and clipping: N accumulated batches make the update of one N-times larger batch,
every epoch ends on a step, clipping bounds the norm, and a recipe attaches them and records them."""
import pytest
import torch
from fastai.callback.core import Callback
from fastai.learner import Learner
from fastai.optimizer import SGD, Adam
from helpers.learners import toy_learner

from fashionseg import Recipe
from fashionseg.callbacks.attach import learner_callbacks
from fashionseg.callbacks.gradients import AccumulateGradients, ClipGradients, batch_norm_note
from fashionseg.errors import FashionsegError
from fashionseg.report.provenance import provenance

N_ITEMS = 24


def trained_weights(learn: Learner, epochs: int = 1) -> torch.Tensor:
    with learn.no_logging(), learn.no_bar():
        learn.fit(epochs, 1e-2)
    return torch.cat([p.detach().flatten() for p in learn.model.parameters()])


@pytest.mark.parametrize("opt", [SGD, Adam])
def test_accumulating_n_batches_is_one_n_times_larger_batch(opt):
    accumulated = trained_weights(toy_learner(4, opt=opt, cbs=[AccumulateGradients(3, 4)]), epochs=2)
    large = trained_weights(toy_learner(12, opt=opt), epochs=2)
    untouched = trained_weights(toy_learner(4, opt=opt), epochs=0)
    assert (accumulated - untouched).abs().max() > 1e-3  # it trained
    assert torch.allclose(accumulated, large, atol=1e-6, rtol=0)


def test_every_epoch_ends_with_a_step():
    """10 items in batches of 4 accumulated by 2: steps after batches 2 and 3 (the epoch's last, partial)."""
    steps = []
    learn = toy_learner(4, n_items=10, opt=SGD, cbs=[AccumulateGradients(2, 4)])
    with learn.no_logging(), learn.no_bar():
        learn.fit(1, 1e-2, cbs=[StepCounter(steps)])
    assert steps == [1, 2]
    assert all(p.grad is None or not p.grad.any() for p in learn.model.parameters())  # nothing carried over


class StepCounter(Callback):
    """Notes the batch index of each optimizer step."""

    def __init__(self, steps):
        self.steps = steps

    def after_step(self):
        self.steps.append(self.iter)


def test_clipping_bounds_the_gradient_norm():
    norms = []

    class Norm(Callback):
        order = ClipGradients.order + 1

        def before_step(self):
            norms.append(torch.cat([p.grad.flatten() for p in self.learn.model.parameters()]).norm())

    learn = toy_learner(4, opt=SGD, cbs=[ClipGradients(1e-3), Norm()])
    with learn.no_logging(), learn.no_bar():
        learn.fit(1, 1e-2)
    assert len(norms) == N_ITEMS // 4 and max(norms) <= 1e-3 + 1e-9


def test_a_recipe_attaches_both_and_provenance_records_them():
    recipe = Recipe(name="r", dataset="d", arch="a", bs=32, accumulate=4, clip=1.0)
    cbs = {type(cb): cb for cb in learner_callbacks(recipe, torch.device("cpu"))}
    assert cbs[AccumulateGradients].n_acc == 128 and cbs[ClipGradients].max_norm == 1.0
    assert not {AccumulateGradients, ClipGradients} & set(map(type, learner_callbacks(
        Recipe(name="r", dataset="d", arch="a"), torch.device("cpu"))))
    prov = provenance(bs=32, accumulate=4, clip=1.0)
    assert (prov["accumulate"], prov["effective_batch"], prov["clip"]) == (4, 128, 1.0)
    assert Recipe.from_dict(recipe.to_dict()).accumulate == 4  # config.json brings them back on resume


def test_batch_norm_is_noted_and_bad_values_refused():
    bn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    assert "batch norm normalises each batch of 16" in batch_norm_note(4, 16, bn)
    assert batch_norm_note(1, 16, bn) is None and batch_norm_note(4, 16, torch.nn.Linear(2, 2)) is None
    for bad in ({"accumulate": 0}, {"clip": -1}):
        with pytest.raises(FashionsegError, match=next(iter(bad))):
            Recipe(name="r", dataset="d", arch="a", **bad)


def test_an_epoch_boundary_is_a_clean_resume_point():
    """3 batches an epoch accumulated by 2 leave a short group at each epoch's end: two epochs in one fit
    equal two fits of one epoch (what --resume does), so no gradient crosses an epoch boundary."""
    whole = trained_weights(toy_learner(4, n_items=12, opt=SGD, cbs=[AccumulateGradients(2, 4)]), epochs=2)
    learn = toy_learner(4, n_items=12, opt=SGD, cbs=[AccumulateGradients(2, 4)])
    trained_weights(learn, epochs=1)
    assert torch.allclose(trained_weights(learn, epochs=1), whole, atol=1e-6, rtol=0)
