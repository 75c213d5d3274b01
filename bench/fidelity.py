"""Reproduce the source reports' figures with their own settings: the fidelity table of docs/BENCHMARKS.md.

Each entry trains the report's model with the settings the report states (architecture, optimizer, lr,
wd, batch size, epochs, schedule, splits) through fashionseg's own recipes, and sets what it measured
beside the figure the report gave. Within 1 point of accuracy (0.01 AP) counts as reproduced.

Entries are sweeps under `--runs-dir` (default bench/runs/fidelity/<recipe>): a finished run is read
back instead of trained again, and an interrupted one (Ctrl-C, a killed session) continues from its
last complete epoch, so a long entry is run by starting the same command again. Results are written to
`<runs-dir>/fidelity.json` after each entry.

Run: python bench/fidelity.py [ENTRY...] [--runs-dir DIR] [--list]
     (no ENTRY: every CPU-feasible entry, in the order listed by --list)
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fashionseg.engine.sweep import run_sweep
from fashionseg.recipe.schema import parse_value
from fashionseg.registry.recipes import find_recipe


@dataclass
class Entry:
    """One figure of a report: the recipe with the report's settings, the swept variants, what was reported."""

    recipe: str
    settings: str  # the settings the report states, in words
    reported: dict  # variant label (the arch, or the recipe name) -> the reported figure
    metric: str  # the metric compared: a column of metrics.csv and a key of metrics.json
    measured_on: str  # "validation" (compare the epoch column) or "test" (compare metrics.json)
    overrides: dict = field(default_factory=dict)
    archs: list = field(default_factory=list)  # an ablation: one variant per architecture
    tolerance: float = 0.01
    feasible: bool = True  # False: a GPU-scale entry, listed with its cost only
    cost: str = ""


REPORT_LOOP = dict(schedule="constant", opt="torch-adam")  # the reports' plain loops: torch.optim.Adam, one rate
THREE_MIN = "images seen in the segmentation ablation's 3 minutes at 128 px (BENCHMARKS.md)"

ENTRIES = {
    "seed000": Entry(
        "seed000", "seed000-cnn, torch.optim.Adam lr 1e-3 with L2 wd 1e-4, constant rate, bs 128, 20 epochs, "
        "validated on the 10,000 test images", {"seed000": 0.9152}, "accuracy", "test"),
    "basenet": Entry(
        "basenet", "basenet (LeNet-like, 12-unit hidden layer), torch.optim.Adam lr 1e-3 wd 1e-4, constant, "
        "bs 128, 10 epochs, 10% of the training images validate", {"basenet": 0.635}, "accuracy", "validation",
        overrides=REPORT_LOOP, archs=["basenet"]),
    "basenet-improved": Entry(
        "basenet", "basenet-improved (BN, 12/24 convs, 192-12 head with dropout), same settings as basenet",
        {"basenet-improved": 0.902}, "accuracy", "validation", overrides=REPORT_LOOP, archs=["basenet-improved"]),
    "basenet-ablation": Entry(
        "basenet", "the five steps from basenet to basenet-improved, basenet's settings for each",
        {"basenet": 0.635, "basenet-bn": 0.701, "basenet-bn-fc1": 0.823, "basenet-bn-fc2": 0.880,
         "basenet-improved": 0.902}, "accuracy", "validation", overrides=REPORT_LOOP,
        archs=["basenet", "basenet-bn", "basenet-bn-fc1", "basenet-bn-fc2", "basenet-improved"]),
    "cam-cnn": Entry(
        "cam-cnn", "cam-cnn on placed Fashion-MNIST, torch.optim.Adam lr 1e-3 wd 1e-4, constant, bs 128, "
        "25 epochs", {"cam-cnn": 0.8103}, "accuracy", "test"),
    "facade-unet-classic": Entry(
        "facade-unet-classic", "unet-classic (width 64), torch.optim.Adam lr 1e-3 wd 1e-4, constant, bs 1, "
        "10 epochs, no augmentation, pairs 0-249 train, 250-349 validate, test_dev tests",
        {"facade-unet-classic": 0.552}, "mean_ap", "test",
        overrides=dict(bs=1, lr=1e-3, wd=1e-4, epochs=10, schedule="constant", opt="torch-adam",
                       valid="250-350", train_items="0-250", data_options={"augment": "none"})),
    "facade-fcn-bn": Entry(
        "facade-fcn", "the 6-layer BN FCN (facade-fcn) at batch 16", {"facade-fcn": 0.643}, "mean_ap", "test",
        feasible=False, cost=f"144 {THREE_MIN}: about 17 min per 806-image epoch at 128 px, 4x that at 256 px"),
    "facade-fcn32s": Entry(
        "facade-fcn32s", "FCN-32s (VGG-16-BN features), mIoU", {}, "mean_iou", "test", feasible=False,
        cost=f"704 {THREE_MIN}: about 3.5 min per epoch at 128 px, 4x that at 256 px"),
    "facade-deeplabv3": Entry(
        "facade-deeplabv3", "DeepLabv3 on a dilated ResNet-101, mIoU", {}, "mean_iou", "test", feasible=False,
        cost=f"320 {THREE_MIN}: about 7.5 min per epoch at 128 px, 4x that at 256 px"),
}


def variant_label(entry: Entry, variant) -> str:
    return variant.recipe.arch if entry.archs else entry.recipe


def epoch_scores(run: Path, metric: str) -> list[float]:
    """The metric after each epoch (metrics.csv), as the report's training logs showed it."""
    with open(run / "metrics.csv", newline="") as f:
        return [float(row[metric]) for row in csv.DictReader(f) if row.get(metric) not in (None, "")]


def measure(name: str, entry: Entry, runs_dir: Path, console: Console, extra: dict | None = None) -> list[dict]:
    """Train (or read back) the entry's runs; one row per variant: reported, final, best epoch, test.
    `extra`: settings over the report's (a smoke check)."""
    base = find_recipe(entry.recipe).override(**{**entry.overrides, **(extra or {})})
    axes = {"arch": entry.archs or [base.arch]}  # a sweep of one: its resume and read-back
    started = time.perf_counter()
    variants = run_sweep(base, axes, runs_dir / entry.recipe, console)  # basenet's entries share their runs
    rows = []
    for v in variants:
        label = variant_label(entry, v)
        if v.run is None:
            rows.append({"entry": name, "variant": label, "state": v.state})
            continue
        metrics = json.loads((Path(v.run) / "metrics.json").read_text())
        per_epoch = epoch_scores(Path(v.run), entry.metric)
        best = max(range(len(per_epoch)), key=per_epoch.__getitem__) if per_epoch else None
        final = per_epoch[-1] if entry.measured_on == "validation" else metrics[entry.metric]
        rows.append({
            "entry": name, "variant": label, "state": v.state, "run": str(v.run), "settings": entry.settings,
            "over_report": extra or {},  # --set: settings changed from the report's
            "reported": entry.reported[label], "measured_on": entry.measured_on, "metric": entry.metric,
            "final": final, "best_epoch": best + 1 if best is not None else None,
            "best": per_epoch[best] if best is not None else None, "per_epoch": per_epoch,
            "test": metrics.get(entry.metric), "per_class": {k: metrics[k] for k in ("ap", "iou") if k in metrics},
            "train_seconds": metrics["timings"]["train_seconds"],
            "reproduced": abs(final - entry.reported[label]) <= entry.tolerance,
        })
    console.print(f"[dim]{name}: {time.perf_counter() - started:.0f} s[/]")
    return rows


def cells(r: dict) -> list[str]:
    """entry, variant, metric, reported, final, best epoch, test, difference, reproduced, train s."""
    if "final" not in r:
        return [r["entry"], r["variant"], "", "", r["state"], "", "", "", "", ""]
    best = f"{r['best']:.4f} @{r['best_epoch']}" if r["best"] is not None else "-"
    test = f"{r['test']:.4f}" if r["test"] is not None else "-"
    return [r["entry"], r["variant"], f"{r['metric']} ({r['measured_on']})", f"{r['reported']:.4f}",
            f"{r['final']:.4f}", best, test, f"{r['final'] - r['reported']:+.4f}", "yes" if r["reproduced"] else "no",
            f"{r['train_seconds']:.0f}"]


HEADER = ["entry", "variant", "metric", "reported", "final", "best epoch", "test", "diff", "reproduced", "train s"]


def show(console: Console, rows: list[dict]):
    table = Table(title="Fidelity: the reports' figures with their own settings (final = last epoch on the "
                        "metric's set)", title_justify="left")
    for col in HEADER:
        table.add_column(col, justify="left" if col in ("entry", "variant", "metric") else "right")
    for r in rows:
        table.add_row(*cells(r))
    console.print(table)


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(cells(r)) + " |" for r in rows]) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("entries", nargs="*", metavar="ENTRY", help="entries by name (default: every feasible one)")
    parser.add_argument("--runs-dir", default="bench/runs/fidelity", type=Path)
    parser.add_argument("--list", action="store_true", help="list the entries and their settings, train nothing")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting in every entry (e.g. epochs=1 limit=500 for a smoke check: then "
                             "the figures are not the report's)")
    args = parser.parse_args()
    console = Console(width=160) if not Console().is_terminal else Console()
    unknown = [e for e in args.entries if e not in ENTRIES]
    if unknown:
        parser.error(f"unknown entry {unknown[0]!r}; choose from {', '.join(ENTRIES)}")
    if args.list:
        for name, e in ENTRIES.items():
            cost = "" if e.feasible else f" (GPU-scale, not run here: {e.cost})"
            console.print(f"[bold]{name}[/]{cost}: {e.settings}; "
                          f"reported {', '.join(f'{k} {v}' for k, v in e.reported.items()) or 'no figure quoted'}")
        return
    names = args.entries or [n for n, e in ENTRIES.items() if e.feasible]
    extra = {k: parse_value(v) for k, _, v in (item.partition("=") for item in args.set)}
    out = args.runs_dir / "fidelity.json"
    done = json.loads(out.read_text()) if out.is_file() else {}
    for name in names:
        entry = ENTRIES[name]
        if not entry.feasible:
            console.print(f"[yellow]{name} is GPU-scale ({entry.cost}); not run here[/]")
            continue
        done[name] = measure(name, entry, args.runs_dir, console, extra)
        args.runs_dir.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(done, indent=2) + "\n")
    rows = [r for name in names if name in done for r in done[name]]
    show(console, rows)
    (args.runs_dir / "fidelity.md").write_text(markdown(rows))
    console.print(f"results: {out} and {args.runs_dir / 'fidelity.md'}")


if __name__ == "__main__":
    main()
