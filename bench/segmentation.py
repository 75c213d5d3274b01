"""Segmentation benchmarks on Mini Facade (issue 3).

  python bench/segmentation.py best [--recipe facade-fast]   # one full run: time, every AP, throughput
  python bench/segmentation.py ablation [--minutes 4 --size 128]   # every architecture, same budget

Each prints a markdown table for docs/BENCHMARKS.md and writes JSON beside its run folders.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
from fastai.callback.core import Callback, CancelFitException
from fastai.torch_core import find_bs
from rich.console import Console

from fashionseg.engine.trainer import run
from fashionseg.registry.recipes import find_recipe
from fashionseg.utils.device import device

CLASSES = ["others", "facade", "pillar", "window", "balcony"]
ABLATION = [  # (row label, architecture, options)
    ("unet (resnet34 encoder)", "unet", {}),
    ("unet (resnet18, light decoder)", "unet", {"encoder": "resnet18", "decoder_channels": [128, 64, 32, 16, 8]}),
    ("unet-classic (width 64)", "unet-classic", {}),
    ("facade-fcn", "facade-fcn", {}),
    ("resnet18-fcn (dilated)", "resnet18-fcn", {"dilation": True}),
    ("fcn32s (VGG-16-BN)", "fcn32s", {}),
    ("deeplabv3-resnet101", "deeplabv3-resnet101", {}),
]


class ImageCounter(Callback):
    """Training images seen; with the run's `train_seconds` (validation excluded) gives throughput."""

    def before_fit(self):
        self.images = 0

    def after_batch(self):
        if self.training:
            self.images += find_bs(self.yb)


class TimeBudget(Callback):
    """One-cycle over wall-clock time: the schedule advances with the share of `seconds` spent,
    and training stops when they are spent (validation passes count too)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def before_fit(self):
        self.started = time.perf_counter()

    def after_batch(self):
        if not self.training:
            return
        spent = (time.perf_counter() - self.started) / self.seconds
        self.learn.pct_train = min(spent, 1.0)
        if spent >= 1:
            raise CancelFitException()


def machine() -> str:
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return f"{platform.machine()} {os.cpu_count()}-core CPU, torch {torch.__version__} ({torch.get_num_threads()} threads), {gpu}"


def aps(results) -> str:
    return " | ".join(f"{results['ap'][c]:.3f}" for c in CLASSES)


def best(args):
    recipe = find_recipe(args.recipe)
    counter = ImageCounter()
    load_before, started = os.getloadavg(), time.perf_counter()
    result = run(recipe, runs_dir=args.runs_dir, console=Console(), cbs=[counter])
    wall = time.perf_counter() - started
    r = {**result.results, "train_seconds": result.learner.train_seconds}
    record = {"recipe": recipe.to_dict(), "machine": machine(), "wall_seconds": wall, "results": r,
              "train_images_per_second": counter.images / r["train_seconds"], "run": str(result.run.path),
              "load_average": {"before": load_before, "after": os.getloadavg()}}
    write(args, "best", record)
    print(f"\n| recipe | train s | wall s | train img/s | mean AP | {' | '.join(CLASSES)} | mean IoU | pixel acc |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(CLASSES) + "---:|---:|")
    print(f"| {recipe.name} | {r['train_seconds']:.0f} | {wall:.0f} | {record['train_images_per_second']:.1f} | "
          f"{r['mean_ap']:.3f} | {aps(r)} | {r['mean_iou']:.3f} | {r['pixel_accuracy']:.3f} |")


def ablation(args):
    base = find_recipe("facade-unet")
    rows = []
    for label, arch, options in ABLATION:
        if args.only and arch not in args.only:
            continue
        recipe = base.override(name=f"ablation-{arch}", arch=arch, arch_options=options, epochs=1000, lr=args.lr,
                               bs=args.bs, sizes=[[0, args.size]])
        counter = ImageCounter()
        result = run(recipe, runs_dir=args.runs_dir, console=Console(), cbs=[counter, TimeBudget(args.minutes * 60)])
        r = {**result.results, "train_seconds": result.learner.train_seconds}
        rows.append({"label": label, "arch": arch, "options": options, "results": r,
                     "images_seen": counter.images,
                     "train_images_per_second": counter.images / max(r["train_seconds"], 1e-9),
                     "run": str(result.run.path)})
        rows[-1]["load_average_after"] = os.getloadavg()
        write(args, "ablation", {"machine": machine(), "minutes": args.minutes, "size": args.size, "rows": rows})
    print(f"\n| architecture | images seen | train img/s | mean AP | {' | '.join(CLASSES)} | mean IoU |")
    print("|---|---:|---:|---:|" + "---:|" * len(CLASSES) + "---:|")
    for row in rows:
        r = row["results"]
        print(f"| {row['label']} | {row['images_seen']} | {row['train_images_per_second']:.1f} | {r['mean_ap']:.3f} | "
              f"{aps(r)} | {r['mean_iou']:.3f} |")


def write(args, kind: str, record: dict):
    path = Path(args.runs_dir) / f"bench-segmentation-{kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs-dir", default="runs/bench")
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("best", help="train the best recipe once, timed")
    p.add_argument("--recipe", default="facade-fast")
    p.set_defaults(func=best)
    p = sub.add_parser("ablation", help="every architecture for the same wall-clock budget")
    p.add_argument("--minutes", type=float, default=4)
    p.add_argument("--size", type=int, default=128, help="model input size (test masks stay 256x256)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--bs", type=int, default=16)
    p.add_argument("--only", nargs="*", help="architectures to run (default: all)")
    p.set_defaults(func=ablation)
    args = parser.parse_args()
    print(f"device: {device()}; machine: {machine()}")
    args.func(args)


if __name__ == "__main__":
    main()
