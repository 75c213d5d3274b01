"""`fashionseg sweep <recipe> --set arch=a,b --set lr=1e-3,1e-4 [overrides]`: an ablation grid."""
import argparse
from pathlib import Path

from fashionseg.commands._options import add_recipe_options, apply_overrides
from fashionseg.registry.recipes import find_recipe
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("sweep", help="train a recipe over a grid of settings and print an ablation table",
                       description="Each --set KEY=V1,V2 is one axis of the grid; other options apply to every run. "
                                   "Run the same command again to resume: finished variants are skipped, interrupted "
                                   "ones continue from their last complete epoch.")
    p.add_argument("recipe", help="recipe name or path to a recipe script")
    p.add_argument("--name", help="sweep folder name under the runs folder (default: sweep-<recipe>)")
    p.add_argument("--hold-out", action="store_true",
                   help="validate and rank every variant on a hold-out of 10%% of the training items (as tune does) "
                        "when the recipe validates on the test set")
    add_recipe_options(p)
    p.set_defaults(func=sweep)


def sweep(args):
    from fashionseg.engine.sweep import HOLD_OUT, ablation_table, parse_axes, ranked_on, run_sweep

    console = make_console()
    base = apply_overrides(find_recipe(args.recipe), argparse.Namespace(**{**vars(args), "set": []}))
    if args.hold_out and base.valid == "test":
        base = base.override(valid=HOLD_OUT)
    if base.valid == "test":
        console.print(f"[bold yellow]warning:[/] this sweep ranks on {ranked_on(base)[0]}")
    sweep_dir = Path(args.runs_dir) / (args.name or f"sweep-{base.name}")
    variants = run_sweep(base, parse_axes(args.set), sweep_dir, console)
    console.print(ablation_table(base, variants))
    console.print(f"ablation table: {sweep_dir / 'ablation.md'} and {sweep_dir / 'ablation.csv'}")
