"""`fashionseg train <recipe> [overrides]`."""
from rich.console import Console

from ..cli import add_recipe_options, apply_overrides
from ..recipe import find_recipe


def add_parser(sub):
    p = sub.add_parser("train", help="train a recipe and write its run folder")
    p.add_argument("recipe", help="recipe name (see `fashionseg list recipes`) or path to a recipe script")
    add_recipe_options(p)
    p.set_defaults(func=lambda args: train_recipe(find_recipe(args.recipe), args))


def train_recipe(recipe, args):
    from ..train import run

    run(apply_overrides(recipe, args), runs_dir=args.runs_dir, console=Console())
