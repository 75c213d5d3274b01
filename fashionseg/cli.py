"""The `fashionseg` command line. Each subcommand lives in `fashionseg/commands/<name>.py`;
the options every recipe command shares are generated from the `Recipe` fields (`fashionseg.commands._options`)."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from fashionseg.commands._options import add_recipe_options
from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import Recipe
from fashionseg.version import __version__

COMMANDS = ["train", "lr_find", "list", "plugins", "runs", "predict", "evaluate", "cam", "embed", "sweep", "tune",
            "compare", "export", "benchmark", "demo", "show_batch"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashionseg", description="Reproducible fastai vision experiments.")
    parser.add_argument("--version", action="version", version=f"fashionseg {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).add_parser(sub)
    for command in sub.choices.values():  # `fashionseg train x --debug` as well as `fashionseg --debug train x`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks")
    return parser


def run_cli(func, args, debug: bool) -> int:
    """Run a command; user errors become one line on stderr and exit code 2."""
    from rich.markup import escape

    from fashionseg.utils.console import console as make_console

    err = make_console(stderr=True)
    try:
        func(args)
    except FashionsegError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)  # verbatim: [x] stays
        return 2
    except KeyboardInterrupt as exc:  # a stop by SIGTERM/SIGINT carries its exit code (128 + signal)
        err.print("[yellow]interrupted[/]")
        return getattr(exc, "exit_code", 130)
    if "torch.distributed" in sys.modules:  # launched by torchrun: every rank leaves the process group together
        from fashionseg.utils.distributed import leave

        leave()
    return 0


def quiet_warnings(debug: bool = False):
    """fastai's user warnings off; the others as one line each (full detail with --debug)."""
    warnings.filterwarnings("ignore", category=UserWarning, module="fastai")
    if not debug:
        warnings.formatwarning = lambda message, category, *_, **__: f"warning: {message}\n"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    quiet_warnings(args.debug)
    return run_cli(args.func, args, args.debug)


def run_recipe_script(recipe: Recipe, argv=None):
    """`python recipes/<name>.py [overrides]`: the same as `fashionseg train <name>`."""
    from fashionseg.commands.train import train_recipe

    parser = argparse.ArgumentParser(prog=f"python recipes/{recipe.name}.py", description=recipe.description)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    add_recipe_options(parser)
    args = parser.parse_args(argv)
    quiet_warnings(args.debug)
    finish(run_cli(lambda a: train_recipe(recipe, a), args, args.debug))


def finish(code: int):
    """End the process with exit code `code` once the command is done: threads of its own finished, every exit
    handler run (trackers, temporary folders, logging, coverage) and the output flushed, skipping only the
    interpreter's teardown of every module and object (a second or two after training; docs/BENCHMARKS.md,
    "Whole process"). Under a profiler, tracer or debugger, and in an interactive session (a REPL, IPython or a
    notebook calling a recipe's `main`), it raises SystemExit as usual instead."""
    import atexit
    import threading

    watched = sys.getprofile() is not None or sys.gettrace() is not None
    if watched or hasattr(sys, "ps1") or sys.flags.interactive or "IPython" in sys.modules:
        sys.exit(code)

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to write to
            pass
    os._exit(code)


def entry():
    finish(main())


if __name__ == "__main__":
    entry()
