"""The side-effect policy: only the main process (rank 0) creates folders, writes files and prints.

Under torchrun, accelerate or fastai's `distrib_ctx` every process runs the same code; the
others must stay silent so that one run writes one folder and the console shows one table.
Nothing heavy is imported here: torch is consulted only when the caller already imported it.
"""
from __future__ import annotations

import functools
import os
import sys


def rank() -> int:
    """This process's global rank: the initialised process group's, else RANK, else LOCAL_RANK, else 0.

    RANK is what fastai's `rank_distrib()` reads; launchers that set only LOCAL_RANK run on one machine.
    """
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", 0)))


def is_main() -> bool:
    """True in the process that owns the run folder and the console (rank 0)."""
    return rank() == 0


def main_console(console=None):
    """`console` (a new rich Console when None) on the main process; a Console that prints nothing elsewhere."""
    from fashionseg.utils.console import console as make_console

    if is_main():
        return console if console is not None else make_console()
    return make_console(quiet=True)


def from_main(value):
    """Rank 0's `value` on every rank when a torch process group is up; `value` itself otherwise.

    A collective call: with a process group up, every rank must call it.
    """
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def main_only(method):
    """Decorate a method that writes: on other ranks it does nothing and returns None."""
    @functools.wraps(method)
    def guarded(*args, **kwargs):
        return method(*args, **kwargs) if is_main() else None

    return guarded
