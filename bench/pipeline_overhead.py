"""Pipeline overhead: one training epoch of seed000-cnn (bs 128) through fashionseg's
DataLoaders and Learner against a bare PyTorch loop over pre-loaded tensors.

Same model, optimizer (`torch.optim.Adam`, lr 1e-3, wd 1e-4, fused in both since `torch-adam` is fused;
fastai drives it through its `OptimWrapper`) and batch size. The two epochs run
*interleaved*: after every `--chunk` fastai batches, the bare loop runs its next
`--chunk` batches, and that time is taken out of fastai's clock. On a shared machine
whose speed drifts by 20-30% within minutes, running whole epochs one after the other
measured the drift rather than the overhead; interleaving puts both loops under the
same conditions. Each repeat is one full epoch (468 full batches) of each, with fresh models.
Before the repeats, both loops train `--warmup` untimed batches on throwaway models, so the
process's one-time costs (oneDNN kernel set-up, the allocator's first blocks) fall on neither;
without it they fell on whichever loop ran first (fastai's), the first repeat reading 4-5% higher.
fashionseg's allocator setting (fashionseg/utils/allocator.py) is process-wide, so the bare loop runs
with it too. Target: fashionseg / bare <= 1.05.

Run: python bench/pipeline_overhead.py [--repeats 3] [--chunk 20] [--warmup 20]
"""
import argparse
import io
import json
import time

import torch
import torch.nn.functional as F
from fastai.callback.core import Callback, CancelFitException
from rich.console import Console

from fashionseg import Recipe, create_model
from fashionseg.build.learner import build_learner
from fashionseg.callbacks.progress import RichProgress
from fashionseg.data import fashion_mnist

RECIPE = Recipe(name="overhead", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"],
                epochs=1, lr=1e-3, wd=1e-4, bs=128, schedule="constant", opt="torch-adam")


class BareLoop:
    """A plain PyTorch epoch over normalised tensors, run a few batches at a time."""

    def __init__(self, seed: int):
        torch.manual_seed(seed)
        raw = fashion_mnist.load()
        self.x = ((raw["train_images"].float() / 255 - fashion_mnist.MEAN) / fashion_mnist.STD).unsqueeze(1)
        self.y = raw["train_labels"].long()
        self.model = create_model("seed000-cnn", 10, 1).train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=RECIPE.lr, weight_decay=RECIPE.wd, fused=True)
        full = len(self.x) // RECIPE.bs  # fastai drops the last partial training batch; so do we
        self.batches = iter(torch.randperm(len(self.x)).split(RECIPE.bs)[:full])
        self.seconds, self.steps = 0.0, 0

    def run(self, n: int | None = None):
        """Train the next `n` batches (all that are left when None), adding to `seconds`."""
        start = time.perf_counter()
        for i, idx in enumerate(self.batches):
            loss = F.cross_entropy(self.model(self.x[idx]), self.y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            self.steps += 1
            if n is not None and i + 1 == n:
                break
        self.seconds += time.perf_counter() - start


class Interleave(Callback):
    """Runs `bare`'s next `chunk` batches after every `chunk` fastai batches, off fastai's clock."""

    order = 100  # after every other after_batch

    def __init__(self, bare: BareLoop, chunk: int):
        self.bare, self.chunk = bare, chunk

    def before_train(self):
        self.excluded, self.started = 0.0, time.perf_counter()

    def after_batch(self):
        if self.training and (self.iter + 1) % self.chunk == 0:
            before = self.bare.seconds
            self.bare.run(self.chunk)
            self.excluded += self.bare.seconds - before

    def after_train(self):
        self.seconds = time.perf_counter() - self.started - self.excluded
        self.steps = self.iter + 1


class StopAfter(Callback):
    """Ends the fit after `n` training batches (the warm-up)."""

    def __init__(self, n: int):
        self.n = n

    def after_batch(self):
        if self.iter + 1 >= self.n:
            raise CancelFitException()


def warm_up(batches: int):
    """Untimed training batches of both loops on throwaway models."""
    BareLoop(seed=100).run(batches)
    learn = build_learner(RECIPE.override(seed=100)).learn
    learn.fit(1, RECIPE.lr, cbs=[StopAfter(batches)])


def repeat(seed: int, chunk: int) -> tuple[float, float]:
    bare = BareLoop(seed)
    learn = build_learner(RECIPE.override(seed=seed)).learn
    learn.add_cb(RichProgress(Console(file=io.StringIO()), title="overhead"))  # as the runner adds it
    timer = Interleave(bare, chunk)
    learn.fit(1, RECIPE.lr, cbs=[timer])
    bare.run()  # the bare epoch's remaining batches
    assert bare.steps == timer.steps == len(learn.dls.train), (bare.steps, timer.steps)
    return bare.seconds, timer.seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=20, help="batches per turn")
    parser.add_argument("--warmup", type=int, default=20, help="untimed batches of each loop first")
    parser.add_argument("--out", default="bench/pipeline_overhead.json")
    args = parser.parse_args()
    fashion_mnist.load()  # decode once, outside the timings
    if args.warmup:
        warm_up(args.warmup)
    bare, ours = [], []
    for i in range(args.repeats):
        b, o = repeat(i, args.chunk)
        bare.append(b)
        ours.append(o)
        print(f"repeat {i + 1}: bare {b:.1f}s  fashionseg {o:.1f}s  ratio {o / b:.3f}", flush=True)
    result = {"bare_seconds": bare, "fashionseg_seconds": ours, "chunk": args.chunk, "warmup": args.warmup,
              "ratios": [round(o / b, 3) for b, o in zip(bare, ours)],
              "ratio_of_totals": round(sum(ours) / sum(bare), 3),
              "threads": torch.get_num_threads()}
    print(json.dumps(result, indent=1))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
