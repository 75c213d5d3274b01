"""Model input sizes and progressive-resizing schedules: parsing and checks only, no torch,
so that a recipe can be validated without importing the training stack."""
from __future__ import annotations

from fashionseg.errors import FashionsegError


def as_size(size) -> tuple[int, int]:
    """128 or [128, 96] as (height, width)."""
    pair = [size, size] if isinstance(size, int) else list(size) if isinstance(size, (list, tuple)) else []
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise FashionsegError(f"a size is a positive integer or [height, width], not {size!r}")
    return pair[0], pair[1]


def size_schedule(sizes) -> list[tuple[int, tuple[int, int]]]:
    """`[[0, 128], [8, 256]]`: 128 from epoch 0, 256 from epoch 8; checked and normalised."""
    schedule = []
    for entry in sizes:
        if not (isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], int)):
            raise FashionsegError(f"sizes takes [[epoch, size], ...], e.g. [[0, 128], [8, 256]]; got entry {entry!r}")
        schedule.append((entry[0], as_size(entry[1])))
    epochs = [e for e, _ in schedule]
    if schedule and (epochs[0] != 0 or epochs != sorted(set(epochs))):
        raise FashionsegError(f"sizes must start at epoch 0 and rise, got epochs {epochs}")
    return schedule


def size_at(schedule, epoch: int) -> tuple[int, int]:
    return [size for start, size in schedule if start <= epoch][-1]
