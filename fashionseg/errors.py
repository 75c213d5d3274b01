"""The one exception type for mistakes a user can make and fix."""
import difflib


class FashionsegError(Exception):
    """A user-fixable problem; the CLI prints it as one line and exits with code 2.

    Its text stays the line it was raised with: fastai re-raises an error from inside a callback with
    "Exception occured in `<callback>` when calling event `<event>`:" put in front, which would bury it."""

    def __init__(self, message: str = "", *args):
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def unknown_name(kind: str, name: str, known, listing: str | None = None) -> FashionsegError:
    """An error for an unknown component name, with close-match suggestions; `listing` is the command listing them."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listing = listing or ("`fashionseg list`" if kind != "recipe" else "`fashionseg list recipes`")
    return FashionsegError(f"unknown {kind} {name!r}.{hint} See {listing} for all names.")
