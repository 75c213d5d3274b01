"""GPU check: one prepared script for the day a GPU is lent, so every CUDA path is measured in one go.

For fashion-fast, fashion-best, facade-best and folder-resnet101 (224 px, on a generated class folder):
  * throughput in fp32, bf16 and fp16: images/s of the training step alone and of the whole loop with its
    data loader, the share of each step spent waiting for data, GPU utilisation (NVML, when present) and
    the peak GPU memory;
  * the test score after a fixed short schedule, in the recipe's own precision (and layout: channels-last);
  * one process through torchrun with `--sync-bn` (NCCL on a GPU, gloo on a CPU, where sync-bn is left out).
Writes gpu_check.json and gpu_check.md into --out. `--smoke` runs the same code with tiny sizes (a quiet 2-core
CPU finishes it in about a minute; fp16 is recorded as skipped there, with the reason the CLI gives).
Budget on one GPU: under 8 minutes (each step's seconds are in the JSON).

Run: python bench/gpu_check.py [--out bench-results/gpu-check] [--smoke] [--recipes fashion-fast ...]
On a lent device (no network there): carry the wheels fastai, fastcore, fasttransform, fastprogress,
fastdownload, plum-dispatch, segmentation-models-pytorch, kornia, kornia-rs and this package, and the data as
`data/` (fashion-mnist, mini-facade), then `FASHIONSEG_DATA=data python bench/gpu_check.py --out $OUT`.
"""
from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
from fastai.callback.core import Callback, CancelFitException, CancelValidException
from PIL import Image
from rich.console import Console

from fashionseg.build.learner import build_learner
from fashionseg.engine.trainer import run
from fashionseg.errors import FashionsegError
from fashionseg.registry.recipes import find_recipe
from fashionseg.utils.device import device

RECIPES = ("fashion-fast", "fashion-best", "facade-best", "folder-resnet101")
PRECISIONS = ("32", "bf16", "fp16")
# timed batches, warm-up batches, epochs and item limit of the short schedule, generated folder and its image size
SIZES = {"full": {"batches": 30, "warmup": 10, "epochs": 3, "limit": 0, "folder": (48, 16), "image": 224},
         "smoke": {"batches": 3, "warmup": 2, "epochs": 1, "limit": 64, "folder": (8, 4), "image": 32}}
# Each recipe's short schedule: a fixed number of epochs (the full recipe would not fit 8 minutes).
SHORT = {"fashion-fast": {"epochs": 2}, "folder-resnet101": {"keep_best": 0, "ensemble": 0, "tsne": 0},
         "fashion-best": {"keep_best": 0}}


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class StepTimer(Callback):
    """Times `n` training batches after `warmup`: the step alone (before_batch to after_batch) and the wall
    time from one batch's end to the next (the step plus loading the batch); skips validation."""

    def __init__(self, warmup: int, n: int):
        self.warmup, self.n = warmup, n
        self.steps, self.walls, self.seen, self.last_end, self.t0 = [], [], 0, None, 0.0

    def before_epoch(self):
        self.last_end = None  # the first batch of an epoch waits for the loader to start: not timed

    def before_batch(self):
        if self.training:
            sync()
            self.t0 = time.perf_counter()

    def after_batch(self):
        if not self.training:
            return
        sync()
        end = time.perf_counter()
        self.seen += 1
        if self.seen == self.warmup and torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        if self.seen > self.warmup:
            self.steps.append(end - self.t0)
            if self.last_end is not None:
                self.walls.append(end - self.last_end)
        self.last_end = end
        if len(self.steps) >= self.n:
            raise CancelFitException

    def before_validate(self):
        raise CancelValidException


class Utilisation:
    """Samples NVML's GPU utilisation every 0.1 s while running (None without a GPU or NVML)."""

    def __enter__(self):
        self.samples, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while not self.stop.wait(0.1):
            try:
                self.samples.append(torch.cuda.utilization())
            except Exception:  # noqa: BLE001 (no GPU, or no NVML bindings: nothing to sample)
                return

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    @property
    def mean(self) -> float | None:
        return round(statistics.mean(self.samples), 1) if self.samples else None


def make_folder(root: Path, per_class: tuple[int, int], size: int) -> Path:
    """Four classes told apart by colour and stripe direction, `train/` and `test/`, JPEGs of `size` px."""
    rng = np.random.default_rng(0)
    colours = {"red": (200, 60, 60), "green": (60, 200, 60), "blue": (60, 60, 200), "grey": (128, 128, 128)}
    for split, n in zip(("train", "test"), per_class):
        for k, (name, colour) in enumerate(colours.items()):
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                image = np.clip(np.array(colour) + rng.normal(0, 40, (size, size, 3)), 0, 255)
                stripes = (np.arange(size) // 8 % 2 == 0)
                image[stripes if k % 2 else slice(None), slice(None) if k % 2 else stripes] *= 0.6
                Image.fromarray(image.astype(np.uint8)).save(root / split / name / f"{i}.jpg")
    return root


def recipe_for(name: str, folder: Path, size: dict, smoke: bool):
    recipe = find_recipe(name).override(**SHORT.get(name, {}))
    if name == "folder-resnet101":
        recipe = recipe.override(data_options={**recipe.data_options, "path": str(folder),
                                               "image_size": size["image"]})
    if smoke:  # tiny batches, sizes and (for the folder) ResNet-18 keep a CPU's minute; on a GPU the recipe's own
        recipe = recipe.override(bs=min(recipe.bs, 16), sizes=[[0, 64]] if recipe.sizes else [], tta=False,
                                 arch="timm:resnet18" if recipe.arch == "timm:resnet101" else recipe.arch)
    return recipe


def throughput(recipe, precision: str, size: dict) -> dict:
    """Images/s of the training step and of the loop with its loader, at `precision`."""
    recipe = recipe.override(precision=precision, limit=max(size["limit"], 0), epochs=100)
    try:
        built = build_learner(recipe)
    except FashionsegError as e:
        return {"skipped": str(e)}
    timer = StepTimer(size["warmup"], size["batches"])
    with Utilisation() as gpu:
        built.learn.fit(recipe.epochs, recipe.lr, cbs=[timer])
    step, wall = statistics.median(timer.steps), statistics.median(timer.walls or timer.steps)
    bs = built.learn.dls.train.bs
    return {"bs": bs, "step_ms": round(1000 * step, 2), "loop_ms": round(1000 * wall, 2),
            "images_per_s_step": round(bs / step, 1), "images_per_s_loop": round(bs / wall, 1),
            "data_wait_share": round(max(0.0, 1 - step / wall), 3), "gpu_utilisation": gpu.mean,
            "peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if torch.cuda.is_available()
            else None}


def short_schedule(recipe, size: dict, runs: Path) -> dict:
    """The test metrics after the short schedule, trained as `fashionseg train` would."""
    recipe = recipe.override(epochs=SHORT.get(recipe.name, {}).get("epochs", size["epochs"]),
                             limit=size["limit"], eval_limit=size["limit"])
    start = time.perf_counter()
    result = run(recipe, runs, console=Console(file=io.StringIO()))
    scores = {k: round(v, 4) for k, v in result.results.items() if isinstance(v, float)}
    return {"epochs": recipe.epochs, "precision": recipe.precision, "seconds": round(time.perf_counter() - start, 1),
            "run": result.run.path.name, **scores}


def distributed(out: Path, smoke: bool) -> dict:
    """fashion-fast for one epoch through torchrun, with sync-bn where CUDA makes it meaningful."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1", "-m", "fashionseg", "train",
           "fashion-fast", "--epochs", "1", "--limit", "256" if smoke else "0", "--eval-limit",
           "128" if smoke else "0", "--runs-dir", str(out / "runs-torchrun")]
    if torch.cuda.is_available():
        cmd.append("--sync-bn")
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return {"backend": "nccl" if torch.cuda.is_available() else "gloo", "sync_bn": torch.cuda.is_available(),
            "rc": done.returncode, "seconds": round(time.perf_counter() - start, 1),
            "tail": (done.stdout + done.stderr)[-600:] if done.returncode else ""}


def machine() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__}, CUDA {torch.version.cuda})"
    return f"CPU {platform.processor() or platform.machine()} (torch {torch.__version__}), no GPU"


def markdown(report: dict) -> str:
    header = "| recipe | precision | images/s (step) | images/s (loop) | data wait | GPU util % | peak MB |"
    lines = [f"# GPU check, {report['date']}", "",
             f"Machine: {report['machine']}. Mode: {report['mode']}. Total {report['seconds']} s.", "",
             header, "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, entry in report["recipes"].items():
        for precision, t in entry["throughput"].items():
            if "skipped" in t:
                lines.append(f"| {name} | {precision} | skipped: {t['skipped']} | | | | |")
            else:
                lines.append(f"| {name} | {precision} | {t['images_per_s_step']} | {t['images_per_s_loop']} | "
                             f"{t['data_wait_share']:.0%} | {t['gpu_utilisation']} | {t['peak_memory_mb']} |")
    lines += ["", "| recipe | short schedule | test scores | seconds |", "| --- | --- | --- | --- |"]
    for name, entry in report["recipes"].items():
        s = entry["short_schedule"]
        scores = ", ".join(f"{k} {v}" for k, v in s.items() if k not in ("epochs", "precision", "seconds", "run"))
        lines.append(f"| {name} | {s['epochs']} epochs, {s['precision']} | {scores} | {s['seconds']} |")
    d = report["torchrun"]
    lines += ["", f"torchrun, 1 process, {d['backend']}, sync-bn {d['sync_bn']}: exit {d['rc']} in {d['seconds']} s."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench-results/gpu-check")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script on a CPU")
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=RECIPES)
    parser.add_argument("--no-torchrun", action="store_true", help="leave out the one-process torchrun check")
    args = parser.parse_args(argv)
    out, size, start = Path(args.out), SIZES["smoke" if args.smoke else "full"], time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    folder = make_folder(out / "folder", size["folder"], size["image"])
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "device": str(device()),
              "mode": "smoke" if args.smoke else "full", "recipes": {}}
    for name in args.recipes:
        recipe = recipe_for(name, folder, size, args.smoke)
        entry = {"throughput": {p: throughput(recipe, p, size) for p in PRECISIONS}}
        entry["short_schedule"] = short_schedule(recipe, size, out / "runs")
        report["recipes"][name] = entry
        print(f"{name}: {json.dumps(entry)}", flush=True)
    report["torchrun"] = {"rc": None, "backend": "-", "sync_bn": False, "seconds": 0} if args.no_torchrun \
        else distributed(out, args.smoke)
    report["seconds"] = round(time.perf_counter() - start, 1)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2))
    (out / "gpu_check.md").write_text(markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
