"""The `fashionseg` command line. Each subcommand lives in `fashionseg/commands/<name>.py`
and provides `add_parser(subparsers)`; the parser it adds sets `func`."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from rich.console import Console

from .errors import FashionsegError

COMMANDS = ["train", "lr_find", "list", "plugins", "predict", "evaluate", "cam", "embed", "sweep"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashionseg", description="Reproducible fastai vision experiments.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).add_parser(sub)
    return parser


def add_recipe_options(parser: argparse.ArgumentParser):
    """Command-line overrides for any recipe setting."""
    g = parser.add_argument_group("recipe overrides")
    g.add_argument("--epochs", type=int)
    g.add_argument("--lr", type=float)
    g.add_argument("--bs", type=int)
    g.add_argument("--wd", type=float)
    g.add_argument("--arch")
    g.add_argument("--dataset")
    g.add_argument("--metrics", help="comma-separated metric names")
    g.add_argument("--schedule", choices=["one-cycle", "constant"])
    g.add_argument("--valid", help="'test', a hold-out fraction such as 0.1, or items such as 250-350")
    g.add_argument("--seed", type=int)
    g.add_argument("--limit", type=int, help="train on only this many items")
    g.add_argument("--label-smoothing", type=float, dest="label_smoothing")
    g.add_argument("--log-every", type=int, dest="log_every", help="training iterations between rows of iterations.csv")
    g.add_argument("--keep-best", type=int, dest="keep_best", help="checkpoints kept with the lowest valid loss")
    g.add_argument("--tensorboard", action="store_const", const=True, help="also write TensorBoard event files")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any setting, e.g. --set arch_options.width=64 --set data_options.augment=flip")
    parser.add_argument("--runs-dir", default=os.environ.get("FASHIONSEG_RUNS", "runs"),
                        help="where run folders go (default: ./runs or $FASHIONSEG_RUNS)")


OVERRIDES = ["epochs", "lr", "bs", "wd", "arch", "dataset", "metrics", "schedule", "valid", "seed", "limit",
             "label_smoothing", "log_every", "keep_best", "tensorboard"]


def apply_overrides(recipe, args):
    changes = {k: getattr(args, k) for k in OVERRIDES if getattr(args, k, None) is not None}
    for item in args.set:
        if "=" not in item:
            raise FashionsegError(f"--set takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        changes[key.strip()] = value
    return recipe.override(**changes)


def run_cli(func, args, debug: bool) -> int:
    """Run a command; user errors become one line on stderr and exit code 2."""
    err = Console(stderr=True)
    try:
        func(args)
    except FashionsegError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]")
        return 130
    return 0


def quiet_warnings():
    warnings.filterwarnings("ignore", category=UserWarning, module="fastai")


def main(argv=None) -> int:
    quiet_warnings()
    args = build_parser().parse_args(argv)
    return run_cli(args.func, args, args.debug)


def run_recipe_script(recipe, argv=None):
    """`python recipes/<name>.py [overrides]`: the same as `fashionseg train <name>`."""
    from .commands.train import train_recipe

    quiet_warnings()
    parser = argparse.ArgumentParser(prog=f"python recipes/{recipe.name}.py", description=recipe.description)
    parser.add_argument("--debug", action="store_true")
    add_recipe_options(parser)
    args = parser.parse_args(argv)
    sys.exit(run_cli(lambda a: train_recipe(recipe, a), args, args.debug))


def entry():
    sys.exit(main())


if __name__ == "__main__":
    entry()
