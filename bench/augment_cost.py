"""Augmentation cost per batch: each augmentation part on a training batch at the facade size (bs 16, RGB
256x256 with masks) and the Fashion-MNIST size (bs 256, grey 28x28), beside the integer flip/shift fast paths
and one training step of the matching recipe's model, so each cost reads as a share of a step.

Batches are random tensors (the cost does not depend on the pixels) on the training device. Each part is
timed over `--repeats` batches after `--warmup` untimed ones; the median is reported in ms.

Run: python bench/augment_cost.py [--repeats 20] [--warmup 3] [--json FILE] [--smoke (tiny sizes, 2 repeats)]
"""
import argparse
import json
import statistics
import time

import torch
from fastai.torch_core import TensorCategory, TensorImage, TensorImageBW, TensorMask

from fashionseg import create_model
from fashionseg.data.augment import PRESETS, augmentations

PARTS = ["flip", "shift2", "crop0.5", "scale0.2", "rot15", "persp0.2", "colour0.2", "blur", "noise", "elastic",
         *PRESETS]
SIZES = {  # name: (batch, channels, side, recipe's architecture and options, classes)
    "facade": (16, 3, 256, "unet", {"encoder": "resnet18"}, 5),
    "fashion-mnist": (256, 1, 28, "fmnist-fastnet", {"convs": 2}, 10),
}


def batch(bs: int, c: int, side: int, dense: bool, on):
    x = (TensorImage if c == 3 else TensorImageBW)(torch.rand(bs, c, side, side, device=on))
    y = TensorMask(torch.randint(0, 5, (bs, side, side), device=on)) if dense else \
        TensorCategory(torch.randint(0, 10, (bs,), device=on))
    return x, y


def timed(fn, repeats: int, warmup: int) -> float:
    """Median milliseconds of `fn()` over `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def step_ms(arch: str, options: dict, n_classes: int, b, repeats: int, warmup: int) -> float:
    """One forward/backward/step of the recipe's model on batch `b`: the yardstick."""
    x, y = (t.as_subclass(torch.Tensor) for t in b)
    model = create_model(arch, n_classes, x.shape[1], **options).to(x.device).train()
    opt = torch.optim.Adam(model.parameters())

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y if y.ndim == 1 else y.clamp(max=n_classes - 1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return timed(step, repeats, warmup)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--smoke", action="store_true", help="tiny batches, 2 repeats: checks the script runs")
    args = parser.parse_args()
    on = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    repeats, warmup = (2, 1) if args.smoke else (args.repeats, args.warmup)
    results = {}
    for name, (bs, c, side, arch, options, n_classes) in SIZES.items():
        if args.smoke:
            bs, side = 4, min(side, 64)
        b = batch(bs, c, side, name == "facade", on)
        step = step_ms(arch, options, n_classes, b, repeats, warmup)
        rows = {"training step": step}
        for part in PARTS:
            tfms = augmentations(part, void=255)
            rows[part] = timed(lambda: apply(tfms, b), repeats, warmup)
        results[name] = {"batch": [bs, c, side, side], "device": str(on), "ms": rows}
        print(f"\n{name}: batch {bs}x{c}x{side}x{side} on {on}")
        for part, ms in rows.items():
            share = "" if part == "training step" else f"  ({ms / step:.0%} of a step)"
            print(f"  {part:<16} {ms:9.2f} ms{share}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def apply(tfms, b):
    for t in tfms:
        b = t(b, split_idx=0)
    return b


if __name__ == "__main__":
    main()
