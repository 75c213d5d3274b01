"""The optimizers a recipe's `opt` names, as fastai `opt_func`s.

`adam` is fastai's Adam (decoupled weight decay, i.e. AdamW) with its step batched: fastai updates each
parameter in a Python loop of five step functions, about 10 ms a step for `fmnist-fastnet` on the CPU; `ForeachAdam`
does the same operations, in the same order, on the same state (`grad_avg`, `sqr_avg`, `step`, `do_wd`), with
torch's multi-tensor (`_foreach_*`) ops over a parameter group at once, so the weights come out bit for bit as
fastai's and a run's `last.pth` resumes under either (see docs/BENCHMARKS.md, "Optimizer step").
`torch-adam` is torch.optim.Adam (L2 weight decay) in its fused implementation; `sgd` is fastai's SGD.
"""
from __future__ import annotations

from collections import defaultdict
from functools import partial

import torch
from fastai.optimizer import (SGD, OptimWrapper, Optimizer, adam_step, average_grad, average_sqr_grad, debias,
                              step_stat, weight_decay)


def optimizer(name: str):
    """The fastai `opt_func` a recipe's `opt` names (see `fashionseg.recipe.OPTIMIZERS`)."""
    if name == "torch-adam":
        return partial(OptimWrapper, opt=fused_adam)
    return {"adam": Adam, "sgd": SGD}[name]


def Adam(params, lr, mom: float = 0.9, sqr_mom: float = 0.99, eps: float = 1e-5, wd: float = 0.01) -> Optimizer:
    """fastai's `Adam` (decoupled weight decay), stepped by `ForeachAdam`; the same signature and defaults."""
    cbs = [weight_decay, partial(average_grad, dampening=True), average_sqr_grad, step_stat, adam_step]
    return ForeachAdam(params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd)


class ForeachAdam(Optimizer):
    """fastai's Optimizer whose `step` is fastai's Adam step (its `cbs` above) on all of a group's parameters at
    once; everything else (hyper-parameters, freezing, state, state_dict) is fastai's."""

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            raise NotImplementedError("fastai optimizers do not support closure")
        for group, hyper in zip(self.param_lists, self.hypers):
            params = [p for p in group if p.grad is not None]
            if params:
                self._step_group(params, hyper)

    def _step_group(self, params: list, hyper: dict):
        lr, mom, sqr_mom, eps, wd = (hyper[k] for k in ("lr", "mom", "sqr_mom", "eps", "wd"))
        states = [self.state[p] for p in params]
        weights, grads = [p.data for p in params], [p.grad.data for p in params]
        decayed = [w for w, s in zip(weights, states) if s.get("do_wd", True)]
        if wd != 0 and decayed:  # weight_decay
            torch._foreach_mul_(decayed, 1 - lr * wd)
        for s, g in zip(states, grads):
            if "grad_avg" not in s:
                s["grad_avg"], s["sqr_avg"] = torch.zeros_like(g), torch.zeros_like(g)
            s["step"] = s.get("step", 0) + 1  # step_stat
        grad_avgs, sqr_avgs = [s["grad_avg"] for s in states], [s["sqr_avg"] for s in states]
        torch._foreach_mul_(grad_avgs, mom)  # average_grad, dampened
        torch._foreach_add_(grad_avgs, grads, alpha=1 - mom)
        torch._foreach_mul_(sqr_avgs, sqr_mom)  # average_sqr_grad
        torch._foreach_addcmul_(sqr_avgs, grads, grads, value=1 - sqr_mom)
        by_step = defaultdict(list)  # parameters that missed a step (no gradient then) debias by their own count
        for i, s in enumerate(states):
            by_step[s["step"]].append(i)
        for step, idx in by_step.items():  # adam_step
            debias1, debias2 = debias(mom, 1 - mom, step), debias(sqr_mom, 1 - sqr_mom, step)
            denom = torch._foreach_div([sqr_avgs[i] for i in idx], debias2)
            torch._foreach_sqrt_(denom)
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_([weights[i] for i in idx], [grad_avgs[i] for i in idx], denom,
                                    value=-lr / debias1)

    def zero_grad(self):
        grads = [p.grad for group in self.param_lists for p in group if p.grad is not None]
        for g in grads:
            g.detach_()
        if grads:
            torch._foreach_zero_(grads)


def fused_adam(params, **kwargs) -> torch.optim.Adam:
    """torch.optim.Adam in its fused implementation, one kernel over every parameter (0.5 ms a step for
    seed000's CNN on the CPU, against 7.8 ms for the per-tensor loop torch picks by default there; the same
    update up to rounding), or its multi-tensor one where fused is not available (a device or dtype)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except RuntimeError:
        return torch.optim.Adam(params, foreach=True, **kwargs)
