"""A pretrained start against from scratch, offline (issue 21): fine-tuning from a fashionseg run's own weights
on a second data set.

Fashion-MNIST is cut in two disjoint class sets written as image folders: the source set (T-shirt/top, Trouser,
Pullover, Dress, Coat; all 30,000 training images) and the target set (Sandal, Shirt, Sneaker, Bag, Ankle boot;
`--per-class` training images each, all 5,000 test images). One source run trains `fashion-fast`'s net on the
source set; then the target set is trained twice per seed with the same recipe, once from scratch and once
from the source run's `model.safetensors` (`weights=`; the head, which has another set of classes, is skipped
and reported). The table gives the load report, the test accuracy after each epoch, the first epoch at which
each start reaches `--target`, and the final accuracy, mean over the seeds.

Run: python bench/pretrained_start.py /tmp/pretrained-start [--per-class 100] [--epochs 8] [--seeds 0 1 2]
     python bench/pretrained_start.py /tmp/pretrained-start-smoke --smoke      # a tiny check that it runs
"""
import argparse
import csv
import json
import statistics
from pathlib import Path

import numpy as np
from PIL import Image
from rich.console import Console

from fashionseg import Recipe
from fashionseg.data.fashion_mnist import CLASSES, load
from fashionseg.engine.trainer import run
from fashionseg.report.tables import runs_table

SOURCE, TARGET = CLASSES[:5], CLASSES[5:]


def write_folders(root: Path, per_class: int, test_per_class: int | None):
    """`root/source` and `root/target`, each with `train/<class>/` and `test/<class>/` PNGs (made once)."""
    if (root / "done").exists():
        return
    data = load()
    for name, classes, limit in (("source", SOURCE, None), ("target", TARGET, per_class)):
        for split in ("train", "test"):
            images, labels = data[f"{split}_images"].numpy(), data[f"{split}_labels"].numpy()
            cap = limit if split == "train" else test_per_class
            for cls in classes:
                folder = root / name / split / cls.replace("/", "-")
                folder.mkdir(parents=True, exist_ok=True)
                picked = np.flatnonzero(labels == CLASSES.index(cls))[:cap]
                for i in picked:
                    Image.fromarray(images[i]).save(folder / f"{i}.png")
    (root / "done").touch()


def recipe(name: str, data: Path, epochs: int, seed: int, weights: str = "", smoke: bool = False) -> Recipe:
    """`fashion-fast`'s net and settings on an image folder, validated on its test set each epoch (measured,
    nothing chosen on it: no early stopping, no kept checkpoints)."""
    return Recipe(name=name, dataset="image-folder", arch="fmnist-fastnet",
                  arch_options={"widths": [16, 32, 64], "dropout": 0.0}, metrics=["accuracy"],
                  epochs=epochs, lr=3e-3, wd=1e-4, bs=8 if smoke else 128, seed=seed, precision="32",
                  valid="test", keep_best=0, weights=weights, data_options={"path": str(data), "augment": "none"})


def epoch_accuracies(folder: Path) -> list[float]:
    with open(folder / "metrics.csv") as f:
        return [float(row["accuracy"]) for row in csv.DictReader(f)]


def first_at(accuracies: list[float], target: float) -> int | None:
    return next((i + 1 for i, a in enumerate(accuracies) if a >= target), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="where the image folders and runs go (folders made once)")
    parser.add_argument("--per-class", type=int, default=100, help="target-set training images per class")
    parser.add_argument("--epochs", type=int, default=8, help="epochs on the target set")
    parser.add_argument("--source-epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--target", type=float, default=0.90, help="the test accuracy to reach")
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--smoke", action="store_true", help="10 images per class, 1 epoch each, 1 seed")
    args = parser.parse_args()
    if args.smoke:
        args.per_class, args.epochs, args.source_epochs, args.seeds = 10, 1, 1, [0]
    console = Console()
    write_folders(args.root, args.per_class, 20 if args.smoke else None)
    if args.smoke:  # the source set cut to a few images per class
        for folder in (args.root / "source" / "train").iterdir():
            for extra in sorted(folder.glob("*.png"))[10:]:
                extra.unlink()
    runs = args.root / "runs"
    source = run(recipe("source", args.root / "source", args.source_epochs, 0, smoke=args.smoke), runs_dir=runs,
                 console=Console(quiet=True))
    console.print(f"source run ({', '.join(SOURCE)}): test accuracy {source.results['accuracy']:.4f} "
                  f"after {args.source_epochs} epochs -> {source.run.path}")
    weights = str(source.run.path / "model.safetensors")
    curves = {"scratch": [], "pretrained": []}
    for seed in args.seeds:
        for start, given in (("scratch", ""), ("pretrained", weights)):
            done = run(recipe(f"target-{start}", args.root / "target", args.epochs, seed, given, args.smoke),
                       runs_dir=runs, console=Console(quiet=True))
            curves[start].append(epoch_accuracies(done.run.path))
            if given and seed == args.seeds[0]:
                report = json.loads((done.run.path / "weights_load.json").read_text())
                console.print(f"load report: {len(report['loaded'])} tensors loaded, "
                              f"{len(report['adapted'])} adapted, skipped: "
                              + "; ".join(f"{s['tensor']} ({s['reason']})" for s in report["skipped"]))
            console.print(f"seed {seed}, {start}: " + " ".join(f"{a:.4f}" for a in curves[start][-1]))
    rows, out = [], {}
    for start, runs_of in curves.items():
        mean = [statistics.mean(epoch) for epoch in zip(*runs_of)]
        reached = [first_at(c, args.target) for c in runs_of]
        out[start] = {"mean_accuracy_by_epoch": mean, "epochs_to_target": reached}
        rows.append([start, *(f"{a:.4f}" for a in mean),
                     ", ".join("-" if r is None else str(r) for r in reached)])
    console.print(runs_table(f"target set ({args.per_class} training images per class): test accuracy after each "
                             f"epoch, mean of seeds {args.seeds}; first epoch >= {args.target}",
                             ["start", *(f"epoch {i + 1}" for i in range(args.epochs)), "epochs to target"], rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"source_accuracy": source.results["accuracy"], **out}, indent=1))


if __name__ == "__main__":
    main()
