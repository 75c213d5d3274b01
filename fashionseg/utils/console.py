"""The consoles fashionseg prints to: rich, at the terminal's width in a terminal; to a file or a pipe,
lines as long as they need, so that a table row or a path is never split over lines (logs and `grep`
see whole lines). $COLUMNS, when set, is the width either way."""
from __future__ import annotations

import os
import sys

from rich.console import Console

UNWRAPPED = 1_000  # columns when writing to a file or a pipe: wider than any table or path we print


def console(stderr: bool = False, **options) -> Console:
    """A rich Console for stdout (or stderr); other options as rich takes them."""
    stream = sys.stderr if stderr else sys.stdout
    if "width" not in options and not os.environ.get("COLUMNS") and not _is_terminal(stream):
        options["width"] = UNWRAPPED
    return Console(stderr=stderr, **options)


def rule(out: Console, title: str):
    """A heading line: rich's rule across a terminal, the title alone elsewhere (no 1,000-column rule)."""
    if out.is_terminal:
        out.rule(title)
    else:
        out.print(f"-- {title} --", markup=False, highlight=False)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
