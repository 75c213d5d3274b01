"""A tuning search space as text (`lr=log:1e-4:1e-2`, `bs=choice:64,128`): parsed and checked here, without
torch or Optuna, so that a wrong space is one clear error before any trial starts."""
from __future__ import annotations

from dataclasses import dataclass

from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import parse_value

KINDS = ("log", "float", "int", "choice")
SYNTAX = "KEY=log:LOW:HIGH, KEY=float:LOW:HIGH, KEY=int:LOW:HIGH or KEY=choice:A,B[,...]"


@dataclass(frozen=True)
class Dimension:
    """One searched setting: a range (`log`, `float`, `int`) or a list of `choices`."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple = ()

    def __str__(self) -> str:
        if self.kind == "choice":
            return f"{self.name}=choice:{','.join(map(str, self.choices))}"
        return f"{self.name}={self.kind}:{self.low!r}:{self.high!r}"


def parse_dimension(item: str) -> Dimension:
    """`lr=log:1e-4:1e-2` -> Dimension('lr', 'log', 1e-4, 1e-2)."""
    name, sep, spec = item.partition("=")
    kind, _, rest = spec.partition(":")
    name, kind = name.strip(), kind.strip()
    if not sep or not name or kind not in KINDS or not rest:
        raise FashionsegError(f"--space takes {SYNTAX}; got {item!r}")
    if kind == "choice":
        choices = tuple(parse_value(v.strip()) for v in rest.split(",") if v.strip())
        if len(choices) < 2 or not all(isinstance(c, (str, int, float, bool)) for c in choices):
            raise FashionsegError(f"--space {item!r}: a choice needs two or more plain values, e.g. bs=choice:64,128")
        return Dimension(name, kind, choices=choices)
    return Dimension(name, kind, *bounds(item, kind, rest))


def bounds(item: str, kind: str, rest: str) -> tuple[float, float]:
    """LOW:HIGH as numbers with LOW < HIGH (both positive for a log range, whole for an int one)."""
    try:
        low, high = (int(v) if kind == "int" else float(v) for v in rest.split(":"))
    except ValueError:
        raise FashionsegError(f"--space {item!r}: {kind} takes LOW:HIGH numbers, e.g. lr=log:1e-4:1e-2") from None
    if not low < high or (kind == "log" and low <= 0):
        raise FashionsegError(f"--space {item!r}: LOW must be below HIGH" + (" and above 0" if kind == "log" else ""))
    return low, high


def parse_space(items, base=None) -> dict[str, Dimension]:
    """The space from `items` (strings as --space takes them), on top of `base` (e.g. a recipe's own)."""
    space = dict(base or {})
    for item in items:
        dim = parse_dimension(item)
        space[dim.name] = dim
    return space
