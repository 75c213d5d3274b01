"""Optimizer step: milliseconds per `step()` + `zero_grad()` of each Adam implementation on the recipes' own
models, with fixed random gradients, so that only the optimizer is timed.

- `fastai Adam`: fastai's per-parameter loop of step functions (what `adam` was);
- `ForeachAdam`: fashionseg's `adam`, the same operations on a whole group at once (torch's `_foreach_*` ops);
  its weights are checked bit for bit against fastai's after the timed steps;
- `torch Adam (per-tensor)`: torch.optim.Adam as torch picks it on CPUs (what `torch-adam` was);
- `torch Adam (fused)`: fashionseg's `torch-adam`.

Each round times every implementation once (`--steps` steps after 3 warm-up steps), in an order that rotates
between rounds; the result is the median over `--rounds`.

Run: python bench/optimizer_step.py [--recipes seed000 fashion-fast fashion-best facade-best] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial

import torch
from fastai.optimizer import Adam as FastaiAdam
from fastai.optimizer import OptimWrapper

from fashionseg.build.learner import build_model
from fashionseg.build.optimizers import Adam, fused_adam
from fashionseg.registry.recipes import find_recipe

IMPLEMENTATIONS = {
    "fastai Adam": FastaiAdam,
    "ForeachAdam": Adam,
    "torch Adam (per-tensor)": partial(OptimWrapper, opt=partial(torch.optim.Adam, foreach=False)),
    "torch Adam (fused)": partial(OptimWrapper, opt=fused_adam),
}
INPUTS = {"fashion-mnist": (10, 1), "mini-facade": (12, 3)}


def model_of(name: str) -> torch.nn.Module:
    recipe = find_recipe(name)
    n_classes, n_in = INPUTS.get(recipe.dataset, (10, 3))
    model = build_model(recipe, n_classes, n_in, False)
    return model.to(memory_format=torch.channels_last) if recipe.channels_last else model


def time_steps(model: torch.nn.Module, opt_func, grads: list, steps: int) -> float:
    """Milliseconds a step (with zero_grad) over `steps` steps, after 3 untimed ones."""
    params = list(model.parameters())
    opt = opt_func(params, lr=1e-3)
    opt.set_hypers(wd=1e-2)
    for i in range(steps + 3):
        if i == 3:
            start = time.perf_counter()
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
        opt.zero_grad()
    return (time.perf_counter() - start) / steps * 1e3


def bitwise_as_fastai(name: str, grads: list, steps: int = 10) -> bool:
    """ForeachAdam and fastai's Adam, from the same weights and gradients, end with equal weights."""
    ends = []
    for opt_func in (Adam, FastaiAdam):
        torch.manual_seed(0)
        model = model_of(name)
        time_steps(model, opt_func, grads, steps)
        ends.append([p.detach().clone() for p in model.parameters()])
    return all(torch.equal(a, b) for a, b in zip(*ends))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=["seed000", "fashion-fast", "fashion-best", "facade-best"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", default="bench/optimizer_step.json")
    args = parser.parse_args(argv)
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "torch_threads": torch.get_num_threads(), "recipes": {}}
    for name in args.recipes:
        torch.manual_seed(0)
        model = model_of(name)
        params = list(model.parameters())
        grads = [torch.randn_like(p) * 1e-2 for p in params]
        times = {k: [] for k in IMPLEMENTATIONS}
        order = list(IMPLEMENTATIONS)
        for r in range(args.rounds):
            for k in order[r % len(order):] + order[:r % len(order)]:
                times[k].append(time_steps(model, IMPLEMENTATIONS[k], grads, args.steps))
        medians = {k: round(statistics.median(v), 3) for k, v in times.items()}
        result = {"parameters": sum(p.numel() for p in params), "tensors": len(params), "ms_per_step": medians,
                  "foreach_vs_fastai": round(medians["ForeachAdam"] / medians["fastai Adam"], 3),
                  "fused_vs_per_tensor": round(medians["torch Adam (fused)"] / medians["torch Adam (per-tensor)"], 3),
                  "foreach_bitwise_as_fastai": bitwise_as_fastai(name, grads)}
        record["recipes"][name] = result
        print(name, json.dumps(result), flush=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=2)
    return record


if __name__ == "__main__":
    main()
