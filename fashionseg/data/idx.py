"""Read IDX files (the MNIST family's format), gzipped or not, into uint8 tensors."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from fashionseg.errors import FashionsegError

_UBYTE = 0x08


def read_idx(path: str | Path, dims: int | None = None) -> torch.Tensor:
    """The array stored in an IDX file as a uint8 tensor of its declared shape (of `dims` dimensions when given)."""
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
    if dims is not None and ndim != dims:
        raise FashionsegError(f"{path} holds an array of shape {shape}, not {dims}-dimensional as expected; "
                              "is it the right file?")
    if len(raw) - header != int(np.prod(shape)):
        raise FashionsegError(f"{path} holds {len(raw) - header} bytes of data, its header promises shape {shape}")
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy())


def check_labelled(images_file: Path, images: torch.Tensor, labels_file: Path, labels: torch.Tensor, n_classes: int):
    """One label per image, each a class index: else the files would train silently to chance accuracy."""
    if len(images) != len(labels):
        raise FashionsegError(f"{images_file} holds {len(images)} images but {labels_file} holds {len(labels)} "
                              "labels; the two must come from the same release: replace them with the original files")
    bad = (labels >= n_classes).nonzero()
    if len(bad):
        i = int(bad[0, 0])
        raise FashionsegError(f"{labels_file} gives item {i} label {int(labels[i])}, but there are {n_classes} "
                              f"classes (0-{n_classes - 1}); replace it with the original file")
