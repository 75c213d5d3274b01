"""`fashionseg tune <recipe> --trials N --space lr=log:1e-4:1e-2 [overrides]`: an Optuna study."""
import argparse
import sys
from pathlib import Path

from fashionseg.commands._options import add_recipe_options, apply_overrides, command_line, given_options, override_argv
from fashionseg.registry.recipes import find_recipe
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("tune", help="search a recipe's settings with Optuna (TPE, pruning), one run per trial",
                       description="Each trial is a run folder under the tune folder, scored on a hold-out of the "
                                   "training items (never the test set). The study is an SQLite file there unless "
                                   "--storage names an Optuna RDB URL; run the same command again to continue it, "
                                   "or on other machines with the same --storage to join it.")
    p.add_argument("recipe", help="recipe name or path to a recipe script")
    p.add_argument("--trials", type=int, default=20, help="trials in the study in total (default 20)")
    p.add_argument("--space", action="append", default=[], metavar="KEY=KIND:...",
                   help="a searched setting: lr=log:1e-4:1e-2, wd=float:0:1e-3, epochs=int:2:6, "
                        "bs=choice:64,128, data_options.augment=choice:none,flip-shift (added to the recipe's "
                        "tune_space)")
    p.add_argument("--metric", default="valid_loss", help="the epoch column that scores a trial on the "
                                                          "hold-out (default valid_loss; e.g. accuracy)")
    p.add_argument("--direction", choices=("minimize", "maximize"),
                   help="default: minimize losses and errors, maximize the rest")
    p.add_argument("--storage", help="an Optuna storage URL, e.g. postgresql://user:pw@host/db "
                                     "(default: sqlite:///<tune folder>/study.db)")
    p.add_argument("--study-name", help="default: tune-<recipe>")
    p.add_argument("--workers", type=int, default=1, help="local worker processes on the study (default 1)")
    p.add_argument("--lr-find", type=int, nargs="?", const=100, default=0, metavar="ITERS",
                   help="first run lr_find (ITERS mini-batches, default 100) and centre the lr range on its valley")
    p.add_argument("--no-prune", dest="prune", action="store_false", help="let every trial run all its epochs")
    p.add_argument("--name", help="tune folder name under the runs folder (default: tune-<recipe>)")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # set by a study's own worker processes
    add_recipe_options(p)
    p.set_defaults(func=tune_command)


def tune_command(args):
    import importlib.util

    from fashionseg.errors import FashionsegError

    if importlib.util.find_spec("optuna") is None:
        raise FashionsegError("tune needs Optuna: pip install 'fashionseg[tune]'")
    from fashionseg.engine.tune import Tuning, scored_on_hold_out, tune, tuning_space, work

    console = make_console()
    recipe = apply_overrides(find_recipe(args.recipe), args)
    recipe = scored_on_hold_out(recipe, "valid" in given_options(args) or any(
        s.startswith("valid=") for s in args.set), console if args.worker is None else make_console(quiet=True))
    t = Tuning(recipe, tuning_space(recipe, args.space), args.trials,
               Path(args.runs_dir) / (args.name or f"tune-{recipe.name}"), args.metric, args.direction or "",
               args.storage or "", args.study_name or "", args.prune)
    if args.worker is not None:
        work(t, args.worker, console)
        return
    tune(t, console, lambda params: reproduce(args, t, params), args.workers,
         lambda i: worker_argv(args, t, i), args.lr_find)


def worker_argv(args, t, index: int) -> list[str]:
    """The command of worker `index`: this study, its resolved space, storage and hold-out."""
    space = [w for dim in t.space.values() for w in ("--space", str(dim))]
    return [sys.executable, "-m", "fashionseg", "tune", args.recipe, *override_argv(args, drop={"valid"}),
            "--valid", t.base.valid, "--trials", str(t.trials), "--metric", t.metric, "--direction", t.direction,
            "--storage", t.storage, "--study-name", t.study_name, "--name", t.tune_dir.name,
            "--runs-dir", str(Path(args.runs_dir).resolve()), *space, *([] if t.prune else ["--no-prune"]),
            "--worker", str(index)]


def reproduce(args, t, params: dict) -> str:
    """`fashionseg train` with the tune's overrides, its hold-out and a trial's settings."""
    settings = [w for k, v in params.items() for w in ("--set", f"{k}={v}")]
    return command_line("fashionseg", "train", args.recipe, *override_argv(args, drop={"valid", *params}),
                        "--valid", t.base.valid, *settings)
