"""k-fold cross-validation: one run per fold under one folder (a sweep over `valid=foldI/K`), then each
metric's mean and spread over the folds. Started again, it skips finished folds and resumes stopped ones."""
from __future__ import annotations

import statistics
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fashionseg.engine.sweep import Variant, run_variants
from fashionseg.recipe.schema import Recipe
from fashionseg.report.tables import markdown_table, runs_table
from fashionseg.run_folders.folder import RunFolder


def fold_variants(recipe: Recipe) -> list[Variant]:
    """One plain run per fold: validated on fold i, trained on the others, tracked as one experiment."""
    k = int(recipe.folds)
    return [Variant({"fold": str(i)}, recipe.override(folds=0, valid=f"fold{i}/{k}", name=f"{recipe.name}-fold{i}",
                                                        experiment=recipe.experiment or recipe.name))
            for i in range(k)]


def kfold_dir(runs_dir: str | Path, recipe: Recipe) -> Path:
    return Path(runs_dir) / f"kfold-{recipe.name}"


def run_kfold(recipe: Recipe, runs_dir: str | Path, console: Console) -> list[Variant]:
    """Train every fold not finished before under runs_dir/kfold-<name>; write folds.csv and folds.md."""
    folder, variants = kfold_dir(runs_dir, recipe), fold_variants(recipe)
    run_variants(variants, folder, console, lambda: write_folds(folder, recipe, variants))
    console.print(folds_table(recipe, variants))
    console.print(f"k-fold summary: {folder / 'folds.md'} (compare the folds: fashionseg compare {folder})")
    return variants


def fold_rows(variants: list[Variant]) -> tuple[list[str], list[list]]:
    """Header and rows: each fold's test metrics and run, then the mean and the spread (sample standard
    deviation) of each metric over the folds that finished."""
    metrics = list(dict.fromkeys(k for v in variants for k in v.metrics if isinstance(v.metrics[k], (int, float))))
    rows = [[v.changes["fold"], *(v.metrics.get(m, "-") for m in metrics), v.run.name if v.run else v.state]
            for v in variants]
    done = [v.metrics for v in variants if v.metrics]
    columns = [[m[name] for m in done if name in m] for name in metrics]
    rows.append(["mean", *(round(statistics.fmean(c), 6) if c else "-" for c in columns), f"{len(done)} folds"])
    rows.append(["std", *(round(statistics.stdev(c), 6) if len(c) > 1 else "-" for c in columns), ""])
    return ["fold", *metrics, "run"], rows


def write_folds(folder: Path, recipe: Recipe, variants: list[Variant]):
    """folds.json (what ran, where, how it ended), folds.csv and folds.md, atomically."""
    runs = RunFolder(folder)
    runs.write_json("folds.json", {"recipe": recipe.to_dict(), "folds": [
        {"fold": int(v.changes["fold"]), "state": v.state, "run": v.run.name if v.run else None} for v in variants]})
    header, rows = fold_rows(variants)
    runs.write_csv("folds.csv", header, rows)
    lines = [f"# {recipe.folds}-fold cross-validation: {recipe.name}", "",
             "Each fold's run validates on that fold of the training items and is tested on the test set.", "",
             *markdown_table(header, rows)]
    runs.write_text("folds.md", "\n".join(lines) + "\n")


def folds_table(recipe: Recipe, variants: list[Variant]) -> Table:
    return runs_table(f"{recipe.folds}-fold cross-validation: {recipe.name}", *fold_rows(variants))
