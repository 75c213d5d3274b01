"""`fashionseg train <recipe | RUN/config.json> [overrides]`, `--from RUN` and `--resume RUN`."""
import json
from pathlib import Path

from fashionseg.commands._options import add_recipe_options, apply_overrides, flag, given_options
from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import Recipe
from fashionseg.registry.recipes import find_recipe
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("train", help="train a recipe and write its run folder",
                       description="Train a recipe; replay a run's exact settings in a new folder (RUN/config.json "
                                   "or --from RUN, overrides apply on top); or continue a stopped run in its "
                                   "own folder (--resume RUN, only --epochs may change).")
    p.add_argument("recipe", nargs="?", help="recipe name (see `fashionseg list recipes`), path to a recipe "
                                             "script, or a run's config.json")
    p.add_argument("--from", dest="from_run", metavar="RUN", help="train again with the settings of this run folder")
    p.add_argument("--resume", metavar="RUN", help="continue this interrupted or killed run from its last "
                                                    "complete epoch, in the same folder")
    add_recipe_options(p)
    p.set_defaults(func=train_command)


def train_command(args):
    if args.resume:
        resume(args)
        return
    train_recipe(source_recipe(args), args)


def source_recipe(args) -> Recipe:
    """The recipe named by exactly one of: a recipe name or script, a config.json, --from RUN."""
    if (args.recipe is None) == (args.from_run is None):
        raise FashionsegError("give a recipe (a name, a recipe script or a run's config.json) or --from RUN, "
                              "not both or neither")
    if args.from_run:
        from fashionseg.run_folders.folder import RunFolder

        return RunFolder.open(args.from_run).recipe()
    if args.recipe.endswith(".json"):
        return config_recipe(Path(args.recipe))
    return find_recipe(args.recipe)


def config_recipe(path: Path) -> Recipe:
    """The recipe a run's config.json records."""
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FashionsegError(f"cannot read {path}: {exc}; pass a run folder's config.json") from None
    if not isinstance(config, dict):
        raise FashionsegError(f"{path} is not a run's config.json (no settings in it)")
    return Recipe.from_dict(config, source=path)


def resume(args):
    """`--resume RUN [--epochs N]`: any other setting would make the run a different experiment."""
    from fashionseg.engine.trainer import resume_run

    others = [flag(name) for name in given_options(args) if name != "epochs"]
    others += [f"--set {item}" for item in args.set]
    if args.recipe or args.from_run or others:
        given = ", ".join(others + ([args.recipe] if args.recipe else []) + (["--from"] if args.from_run else []))
        raise FashionsegError(f"--resume continues a run with its own settings; only --epochs may change "
                              f"(got {given})")
    resume_run(args.resume, console=make_console(), epochs=args.epochs)


def train_recipe(recipe, args):
    """One run, or with `folds` one per fold under one folder (run again, it resumes the unfinished folds)."""
    from fashionseg.engine.kfold import run_kfold
    from fashionseg.engine.trainer import run

    recipe = apply_overrides(recipe, args)
    if recipe.folds:
        run_kfold(recipe, args.runs_dir, make_console())
        return
    run(recipe, runs_dir=args.runs_dir, console=make_console())
