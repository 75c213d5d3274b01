"""Pipeline overhead: one training epoch of seed000-cnn (bs 128) through fashionseg's
DataLoaders and Learner against a bare PyTorch loop over pre-loaded tensors.

Same model, optimizer (Adam, lr 1e-3, wd 1e-4) and batch size; the two are run
alternately, several times, and the ratio of medians is reported (target <= 1.10).
Run: python bench/pipeline_overhead.py [--repeats 3]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from fashionseg import Recipe, create_model
from fashionseg.data import fashion_mnist
from fashionseg.train import build_learner

RECIPE = Recipe(name="overhead", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"],
                epochs=1, lr=1e-3, wd=1e-4, bs=128, schedule="constant")


def bare_epoch(seed: int) -> float:
    """Seconds for one epoch of a plain loop: shuffled index batches into normalised tensors."""
    torch.manual_seed(seed)
    raw = fashion_mnist.load()
    x = ((raw["train_images"].float() / 255 - 0.2860) / 0.3530).unsqueeze(1)
    y = raw["train_labels"].long()
    model = create_model("seed000-cnn", 10, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    model.train()
    start = time.perf_counter()
    for idx in torch.randperm(len(x)).split(RECIPE.bs):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def fashionseg_epoch(seed: int) -> float:
    """Seconds in the training phase of one `Learner.fit` epoch (validation excluded)."""
    _, learn = build_learner(RECIPE.override(seed=seed))
    learn.fit(1, RECIPE.lr)
    return learn.train_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench/pipeline_overhead.json")
    args = parser.parse_args()
    fashion_mnist.load()  # decode once, outside the timings
    bare, ours = [], []
    for i in range(args.repeats):
        bare.append(bare_epoch(i))
        ours.append(fashionseg_epoch(i))
        print(f"repeat {i + 1}: bare {bare[-1]:.1f}s  fashionseg {ours[-1]:.1f}s")
    result = {"bare_seconds": bare, "fashionseg_seconds": ours,
              "ratio_of_medians": round(statistics.median(ours) / statistics.median(bare), 3),
              "threads": torch.get_num_threads()}
    print(json.dumps(result, indent=1))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
