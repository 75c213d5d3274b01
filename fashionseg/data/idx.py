"""Read IDX files (the MNIST family's format), gzipped or not, into uint8 tensors."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from ..errors import FashionsegError

_UBYTE = 0x08


def read_idx(path: str | Path) -> torch.Tensor:
    """The array stored in an IDX file as a uint8 tensor of its declared shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise FashionsegError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE:
        raise FashionsegError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != int(np.prod(shape)):
        raise FashionsegError(f"{path} holds {len(raw) - header} bytes of data, its header promises shape {shape}")
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy())
