"""Regularisers side by side, same budget: facade-best with and without crop/scale + colour augmentation
(mean AP and each class's AP/IoU), fashion-best with and without MixUp/CutMix (accuracy at equal epochs).

Each variant is the recipe with one change, trained through `fashionseg.engine.trainer.run` into
`--runs-dir`; the table prints the test metrics of each. Record the results in docs/BENCHMARKS.md with the
date, machine and this exact command.

Run: python bench/regularisers.py [facade|fashion|all] [--variants 0 1] [--runs-dir DIR] [--smoke (1 epoch on a few items)]
"""
import argparse

from rich.console import Console

from fashionseg.engine.trainer import run
from fashionseg.registry.recipes import find_recipe
from fashionseg.report.tables import runs_table

VARIANTS = {
    "facade": ("facade-best", {
        "recipe's augmentation ('light': flip, brightness)": {},
        "+ crop/scale + colour": {"data_options.augment": "light-crop0.5-scale0.2-colour0.2"},
        "segment preset": {"data_options.augment": "segment"},
    }),
    "fashion": ("fashion-best", {
        "recipe (no MixUp/CutMix)": {},
        "MixUp 0.2": {"mixup": 0.2},
        "CutMix 1.0": {"cutmix": 1.0},
        "MixUp 0.2 + CutMix 1.0": {"mixup": 0.2, "cutmix": 1.0},
    }),
}
SMOKE = {"epochs": 1, "limit": 32, "eval_limit": 16, "keep_best": 0, "ensemble": 0, "sizes": "[]", "bs": 8,
         "precision": "32"}


def compare(name: str, runs_dir: str, smoke: bool, console: Console, only: list[int] | None = None):
    """Train each variant of one recipe (or those numbered in `only`, from 0) and print their test metrics
    side by side."""
    recipe_name, variants = VARIANTS[name]
    variants = {k: v for i, (k, v) in enumerate(variants.items()) if only is None or i in only}
    base = find_recipe(recipe_name)
    rows, metrics = [], None
    for label, changes in variants.items():
        recipe = base.override(**changes, **(SMOKE if smoke else {}))
        results = run(recipe, runs_dir=runs_dir, console=Console(quiet=True)).results
        scalars = flat(results)
        metrics = metrics or list(scalars)
        rows.append([label, *(round(scalars.get(m, float("nan")), 4) for m in metrics)])
        console.print(f"{recipe_name}, {label}: " + ", ".join(f"{m} {scalars[m]:.4f}" for m in metrics))
    console.print(runs_table(f"{recipe_name}: regularisers side by side", ["variant", *metrics], rows))


def flat(results: dict) -> dict:
    """The scalar test metrics, with per-class ones (dicts by class) as `metric.class`."""
    out = {}
    for key, value in results.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items() if isinstance(v, (int, float))})
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="?", default="all", choices=[*VARIANTS, "all"])
    parser.add_argument("--runs-dir", default="runs/bench-regularisers")
    parser.add_argument("--variants", type=int, nargs="+", help="only these variants, numbered from 0 in the order "
                        "of VARIANTS (e.g. 0 1: the recipe and the first change)")
    parser.add_argument("--smoke", action="store_true", help="1 epoch on 32 items per variant: checks the script")
    args = parser.parse_args()
    console = Console()
    for name in VARIANTS if args.which == "all" else [args.which]:
        compare(name, args.runs_dir, args.smoke, console, args.variants)


if __name__ == "__main__":
    main()
