"""The one exception type for mistakes a user can make and fix."""
import difflib


class FashionsegError(Exception):
    """A user-fixable problem; the CLI prints it as one line and exits with code 2."""


def unknown_name(kind: str, name: str, known, listing: str | None = None) -> FashionsegError:
    """An error for an unknown component name, with close-match suggestions; `listing` is the command listing them."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listing = listing or ("`fashionseg list`" if kind != "recipe" else "`fashionseg list recipes`")
    return FashionsegError(f"unknown {kind} {name!r}.{hint} See {listing} for all names.")
