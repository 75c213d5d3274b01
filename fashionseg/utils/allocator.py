"""CPU memory allocator setting: keep freed memory in the process instead of handing it back.

On Linux, torch's CPU tensors come from glibc's malloc. By default glibc serves large blocks
(activations, gradients) with fresh `mmap`s and returns freed memory to the kernel, so every
training step page-faults its tens of megabytes in again (16,000-20,000 minor faults per batch for
`fashion-best`, whose step is 1.17x faster without them; docs/BENCHMARKS.md, "Pipeline overhead: 1.045").
Raising glibc's mmap and trim thresholds keeps that memory for the next batch, as the jemalloc or
tcmalloc preloads that the PyTorch CPU performance guides recommend do, without a native dependency.

The setting is process-wide and lasts for the process; fashionseg applies it when it builds a
Learner or loads a trained model. Set `FASHIONSEG_MALLOC_TUNING=0` to leave glibc's defaults (a
long-lived process that must give memory back). Elsewhere than glibc it does nothing.
"""
from __future__ import annotations

import ctypes
import os
import sys

ENV = "FASHIONSEG_MALLOC_TUNING"
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
THRESHOLD = 1 << 30  # blocks below 1 GiB come from (and go back to) the heap, which keeps 1 GiB free at most
FALLBACK = 32 << 20  # glibc versions that refuse more take 32 MiB, the largest its dynamic threshold reaches

_applied: bool | None = None


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (absent on musl and other C libraries)
        return libc
    except (OSError, AttributeError):
        return None


def keep_freed_memory() -> bool:
    """Apply the setting once per process; True when it is in effect."""
    global _applied
    if _applied is None:
        libc = _glibc()
        if os.environ.get(ENV, "1").strip().lower() in ("0", "false", "no", "off") or libc is None:
            _applied = False
        else:
            mmap_ok = libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD) or libc.mallopt(M_MMAP_THRESHOLD, FALLBACK)
            _applied = bool(mmap_ok and libc.mallopt(M_TRIM_THRESHOLD, THRESHOLD))
    return _applied
