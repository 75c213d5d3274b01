"""Ablation sweeps: a recipe trained over a grid of settings, one run folder each, compared
in one table. Started again, a sweep skips every variant with a finished run of the same config
and resumes one that was interrupted or killed (from its last.pth)."""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import Recipe
from fashionseg.report.tables import markdown_table, runs_table
from fashionseg.run_folders.folder import RunFolder
from fashionseg.run_folders.state import run_state
from fashionseg.run_folders.summary import RunSummary, headline_metrics
from fashionseg.utils.console import rule

BRACKETS = {"[": "]", "(": ")", "{": "}"}
HOLD_OUT = "0.1"  # sweep --hold-out and tune score on this fraction of the training items, never the test set


def split_values(text: str) -> list[str]:
    """Comma-separated values, keeping commas inside brackets: 'a,[1,2]' -> ['a', '[1,2]']."""
    values, depth, current = [], 0, ""
    for ch in text:
        depth += (ch in BRACKETS) - (ch in BRACKETS.values())
        if ch == "," and depth == 0:
            values.append(current.strip())
            current = ""
        else:
            current += ch
    values.append(current.strip())
    return [v for v in values if v]


def parse_axes(items: list[str]) -> dict[str, list[str]]:
    """`["arch=a,b", "lr=1e-3,1e-4"]` -> `{"arch": ["a", "b"], "lr": ["1e-3", "1e-4"]}`."""
    axes = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not split_values(values):
            raise FashionsegError(f"--set takes KEY=VALUE[,VALUE...], got {item!r}")
        axes[key.strip()] = split_values(values)
    return axes


@dataclass
class Variant:
    """One point of the grid: its settings, its recipe, and once run, its folder and outcome."""

    changes: dict[str, str]
    recipe: Recipe
    state: str = "pending"
    run: Path | None = None
    metrics: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.changes.items())


def grid(base: Recipe, axes: dict[str, list[str]]) -> list[Variant]:
    """Every combination of the axes' values; variants are named after the axes that vary."""
    if not axes:
        raise FashionsegError("a sweep needs at least one --set KEY=VALUE1,VALUE2")
    varying = [k for k, v in axes.items() if len(v) > 1]
    variants = []
    for combo in itertools.product(*axes.values()):
        changes = dict(zip(axes, combo))
        slug = re.sub(r"[^\w.=+-]+", "_", "_".join(f"{k}={changes[k]}" for k in varying)) or "base"
        recipe = base.override(**changes)
        named = recipe.override(name=f"{base.name}-{slug}", experiment=base.experiment or base.name)  # tracked together
        variants.append(Variant({k: changes[k] for k in varying}, named))
    return variants


def latest_run(sweep_dir: Path, recipe: Recipe, states: set[str]) -> Path | None:
    """The latest run folder under `sweep_dir` with exactly this recipe's config and a state in `states`."""
    config = json.loads(json.dumps(recipe.to_dict()))
    for path in sorted(sweep_dir.glob("*/status.json"), reverse=True):
        folder = RunFolder(path.parent)
        try:
            if run_state(folder.path) in states and folder.read_json("config.json") == config:
                return folder.path
        except FashionsegError:
            continue
    return None


def finished_run(sweep_dir: Path, recipe: Recipe) -> Path | None:
    return latest_run(sweep_dir, recipe, {"finished"})


def resumable_run(sweep_dir: Path, recipe: Recipe) -> Path | None:
    """An interrupted or killed run of this config that kept its last.pth: the sweep continues it."""
    from fashionseg.callbacks.checkpoints import LAST

    path = latest_run(sweep_dir, recipe, {"interrupted", "died"})
    return path if path is not None and (path / LAST).is_file() else None


def run_sweep(base: Recipe, axes: dict[str, list[str]], sweep_dir: Path, console: Console) -> list[Variant]:
    """Train each variant not already finished under `sweep_dir`, continuing interrupted ones from their
    last complete epoch; a failed variant does not stop the rest."""
    variants = grid(base, axes)
    return run_variants(variants, sweep_dir, console, lambda: write_summary(sweep_dir, base, axes, variants))


def run_variants(variants: list[Variant], folder: Path, console: Console, summarise) -> list[Variant]:
    """Train each variant not already finished under `folder` (resuming interrupted ones), calling
    `summarise()` after each, so a killed sweep or k-fold leaves a summary of what it finished."""
    from fashionseg.build.checks import as_run, check_recipe

    for v in variants:
        v.recipe = as_run(v.recipe, check_recipe(v.recipe))  # as config.json records it
    folder.mkdir(parents=True, exist_ok=True)
    for n, v in enumerate(variants, 1):
        v.run = finished_run(folder, v.recipe)
        if v.run:
            v.state = "skipped (finished before)"
            console.print(f"[dim]{n}/{len(variants)} {v.label}: finished before in {v.run.name}, skipped[/]")
        else:
            rule(console, f"{n}/{len(variants)} {v.label}")
            train_variant(v, folder, console)
        if v.run:
            v.metrics = RunSummary.read(v.run).test_metrics
        summarise()
    return variants


def train_variant(v: Variant, sweep_dir: Path, console: Console):
    """Resume the variant's interrupted run if there is one, else train it; a failure is recorded, not raised."""
    from fashionseg.engine.trainer import resume_run, run

    stopped = resumable_run(sweep_dir, v.recipe)
    try:
        result = resume_run(stopped, console=console) if stopped else run(v.recipe, runs_dir=sweep_dir, console=console)
        v.run, v.state = result.run.path, "resumed and finished" if stopped else "finished"
    except Exception as exc:  # one broken variant must not lose the others
        v.state = f"failed: {type(exc).__name__}: {exc}"
        console.print(f"[bold red]{v.label} failed:[/] {exc}")


def ranked_on(recipe: Recipe) -> tuple[str, str]:
    """What an ablation table ranks on, in words, and the loss column it ranks by: the hold-out's
    valid_loss, or test_loss when the variants validate on the test set (then the table says so)."""
    if recipe.valid == "test":
        return (f"the TEST set (valid='test'): picking a variant from this table picks on the test set; --hold-out "
                f"ranks on {float(HOLD_OUT):.0%} of the training items instead", "test_loss")
    return f"the hold-out validation set (valid={recipe.valid}); test columns for reference only", "valid_loss"


def ablation_rows(variants: list[Variant]) -> tuple[list[str], list[list]]:
    """Header and rows: one column per varied setting, the headline metrics (the losses and those the recipe
    chose; every score stays in each run's metrics.json), the rank by the loss that `ranked_on` names (1 is
    best), then the run."""
    settings = list(variants[0].changes)
    by = ranked_on(variants[0].recipe)[1]
    metrics = headline_metrics(list(dict.fromkeys(k for v in variants for k in v.metrics)),
                               variants[0].recipe.metrics, keep=(by,))
    order = sorted((v.metrics[by], i) for i, v in enumerate(variants) if by in v.metrics)
    rank = {i: n for n, (_, i) in enumerate(order, 1)}
    rows = [[*v.changes.values(), *(v.metrics.get(m, "-") for m in metrics), rank.get(i, "-"),
             v.run.name if v.run else v.state] for i, v in enumerate(variants)]
    return [*settings, *metrics, f"rank ({by})", "run"], rows


def write_summary(sweep_dir: Path, base: Recipe, axes: dict, variants: list[Variant]):
    """sweep.json (what ran, where, how it ended), ablation.csv and ablation.md, atomically."""
    folder = RunFolder(sweep_dir)
    folder.write_json("sweep.json", {"recipe": base.to_dict(), "axes": axes, "ranked_on": ranked_on(base)[0],
                                     "variants": [{"settings": v.changes, "state": v.state,
                                                   "run": v.run.name if v.run else None} for v in variants]})
    header, rows = ablation_rows(variants)
    folder.write_csv("ablation.csv", header, rows)
    lines = [f"# Ablation: {base.name}", "", f"Grid: {', '.join(f'{k} in {v}' for k, v in axes.items())}.", "",
             f"Ranked on {ranked_on(base)[0]}.", "", *markdown_table(header, rows)]
    folder.write_text("ablation.md", "\n".join(lines) + "\n")


def ablation_table(base: Recipe, variants: list[Variant]) -> Table:
    return runs_table(f"Ablation: {base.name}, ranked on {ranked_on(base)[0]}", *ablation_rows(variants))
