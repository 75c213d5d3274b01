"""The option plumbing every recipe command shares: one flag per `Recipe` field, overrides applied to a
recipe, and the command line that repeats them."""
from __future__ import annotations

import argparse
import dataclasses
import os
import shlex

from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import Recipe

TYPES = {"int": int, "float": float}


def recipe_options(exclude=frozenset()) -> list[dataclasses.Field]:
    """The Recipe fields offered as command-line options, less those in `exclude`."""
    return [f for f in dataclasses.fields(Recipe) if f.metadata.get("option") and f.name not in exclude]


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_recipe_options(parser: argparse.ArgumentParser, exclude=frozenset()):
    """One option per Recipe field (see `recipe.setting`), less `exclude`, plus `--set` and `--runs-dir`."""
    g = parser.add_argument_group("recipe overrides (each defaults to the recipe's value)")
    for f in recipe_options(exclude):
        help = f"{f.metadata['help']} (default: the recipe's{fallback(f)})".replace("%", "%%")
        if f.type == "bool":
            g.add_argument(flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction, help=help)
            continue
        choices = None if f.type.startswith("list") else f.metadata["choices"] or None  # a list: NAME,NAME
        g.add_argument(flag(f.name), dest=f.name, type=TYPES.get(f.type, str), help=help, choices=choices,
                       metavar=metavar(f))
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any recipe setting, also dotted ones: --set arch_options.width=64 "
                        "--set data_options.augment=flip")
    parser.add_argument("--runs-dir", default=default_runs_dir(),
                        help="where run folders go (default: ./runs or $FASHIONSEG_RUNS)")


def metavar(f: dataclasses.Field) -> str | None:
    """N, X, VALUE or {a,b}[,...] for a list of choices; None lets argparse show the choices."""
    if f.metadata["choices"] and f.type.startswith("list"):
        return "{" + ",".join(f.metadata["choices"]) + "}[,...]"
    return None if f.metadata["choices"] else {"int": "N", "float": "X"}.get(f.type, "VALUE")


def fallback(f: dataclasses.Field) -> str:
    """', else X' for a field with a default X, used when a recipe leaves it out."""
    if f.default is not dataclasses.MISSING:
        return f", else {f.default!r}" if f.default == "" else f", else {f.default}"
    return f", else {f.default_factory()}" if f.default_factory is not dataclasses.MISSING else ""


def default_runs_dir() -> str:
    return os.environ.get("FASHIONSEG_RUNS", "runs")


def given_options(args) -> dict:
    """The recipe options given on the command line, by field name."""
    return {f.name: getattr(args, f.name) for f in recipe_options() if getattr(args, f.name, None) is not None}


def apply_overrides(recipe: Recipe, args) -> Recipe:
    changes = given_options(args)
    for item in getattr(args, "set", []):
        if "=" not in item:
            raise FashionsegError(f"--set takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        changes[key.strip()] = value
    return recipe.override(**changes)


def override_argv(args, drop=frozenset()) -> list[str]:
    """The overrides in `args` as command-line words that recreate them (settings in `drop` left out)."""
    words = []
    for name, value in given_options(args).items():
        if name in drop:
            continue
        if isinstance(value, bool):
            words.append(flag(name) if value else "--no-" + flag(name)[2:])
        else:
            words += [flag(name), str(value)]
    for item in getattr(args, "set", []):
        if item.split("=", 1)[0].strip() not in drop:
            words += ["--set", item]
    if getattr(args, "runs_dir", None) not in (None, default_runs_dir()):
        words += ["--runs-dir", args.runs_dir]
    return words


def command_line(*words) -> str:
    """Words as one shell-quoted command a user can paste."""
    return shlex.join(str(w) for w in words)
