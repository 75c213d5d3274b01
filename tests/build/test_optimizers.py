"""The optimizers recipes name: `adam` steps exactly as fastai's Adam (bit for bit, state included), `torch-adam`
is torch's fused Adam and steps as its per-tensor loop does (up to rounding)."""
import copy
from functools import partial

import pytest
import torch
import fastai.callback.schedule  # noqa: F401 (fit_one_cycle)
from fastai.learner import Learner
from fastai.optimizer import Adam as FastaiAdam
from fastai.optimizer import OptimWrapper

from fashionseg.build.optimizers import Adam, ForeachAdam, optimizer
from tests.helpers.learners import toy_learner


def net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 6 * 6, 8), torch.nn.Linear(8, 3))


def stepped(opt_func, steps: int = 12, state=None):
    """`steps` steps of a net in two parameter groups (lr 1e-3 and 1e-2), batch-norm weights without weight
    decay (as fastai's Learner sets them), momentum changing every step (as one-cycle does), and the last layer
    without a gradient every third step (it then misses that step and debiases by its own count)."""
    model = net()
    groups = [list(model[:3].parameters()), list(model[3:].parameters())]
    opt = opt_func(groups, lr=1e-3)
    opt.set_hypers(lr=[1e-3, 1e-2], wd=1e-2)
    for p in model[1].parameters():
        opt.state[p]["do_wd"] = False
    if state is not None:
        opt.load_state_dict(state)
    x, y = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(1)), torch.arange(16) % 3
    for i in range(steps):
        opt.set_hypers(mom=0.95 - 0.01 * i)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        if i % 3 == 2:
            for p in model[5].parameters():
                p.grad = None
        opt.step()
        opt.zero_grad()
    return model, opt


def test_adam_steps_bit_for_bit_as_fastais_adam():
    ours, our_opt = stepped(Adam)
    theirs, their_opt = stepped(FastaiAdam)
    assert isinstance(our_opt, ForeachAdam)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(p, q)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        a, b = our_opt.state[p], their_opt.state[q]
        assert set(a) == set(b) and a["step"] == b["step"]
        assert torch.equal(a["grad_avg"], b["grad_avg"]) and torch.equal(a["sqr_avg"], b["sqr_avg"])
    assert our_opt.state[next(ours[5].parameters())]["step"] == 8  # missed every third step of 12


def test_adam_state_moves_between_fastais_adam_and_ours():
    """A last.pth written by either continues under the other."""
    _, half = stepped(FastaiAdam, steps=6)
    ours, _ = stepped(Adam, steps=6, state=copy.deepcopy(half.state_dict()))  # state_dict shares the tensors
    theirs, _ = stepped(FastaiAdam, steps=6, state=copy.deepcopy(half.state_dict()))
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(p, q)


def test_a_learner_fits_with_it_as_with_fastais_adam():
    fits = []
    for opt in (Adam, FastaiAdam):
        learn = toy_learner(bs=8, opt=opt, learner=Learner)
        learn.fit_one_cycle(2, 1e-2)
        fits.append(learn)
    for p, q in zip(fits[0].model.parameters(), fits[1].model.parameters()):
        assert torch.equal(p, q)


def test_torch_adam_is_fused_and_steps_as_the_per_tensor_adam():
    fused, opt = stepped(optimizer("torch-adam"))
    per_tensor, _ = stepped(partial(OptimWrapper, opt=partial(torch.optim.Adam, foreach=False)))
    assert isinstance(opt.opt, torch.optim.Adam) and opt.opt.defaults["fused"]
    for p, q in zip(fused.parameters(), per_tensor.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=2e-5)  # rounding: the same update


def test_optimizer_names():
    assert optimizer("adam") is Adam
    with pytest.raises(KeyError):
        optimizer("adagrad")  # recipes refuse it first (`opt must be one of ...`)
