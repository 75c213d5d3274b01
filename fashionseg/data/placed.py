"""Small images pasted at seeded random positions on a larger blank canvas.

Only the paste offsets are stored (two integers per item); a whole batch of canvases is
built by one indexed assignment, so memory stays at the size of the source images and
no per-item Python runs in the training loop.
"""
from __future__ import annotations

import torch
from fastai.torch_core import TensorImageBW
from fasttransform import Transform

from fashionseg.data.tensor_block import shape_only
from fashionseg.errors import FashionsegError


def paste_offsets(n: int, canvas: int, size: int, seed: int) -> torch.Tensor:
    """`(n, 2)` top-left corners, the same for a given item index and seed."""
    if canvas < size:
        raise FashionsegError(f"canvas must be at least the image size {size}, got {canvas}")
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, canvas - size + 1, (n, 2), generator=gen)


def paste_boxes(offsets: torch.Tensor, size: int) -> torch.Tensor:
    """`(n, 4)` boxes as (top, left, bottom, right), bottom and right exclusive."""
    return torch.cat([offsets, offsets + size], dim=1)


class PasteOnCanvas(Transform):
    """Item index (or tensor of indices) -> its image pasted on a blank canvas, uint8."""

    def __init__(self, images: torch.Tensor, offsets: torch.Tensor, canvas: int):
        super().__init__()
        self.images, self.offsets, self.canvas = images, offsets, canvas

    def without_data(self) -> "PasteOnCanvas":
        """No images or offsets: what `learn.export` keeps (see `tensor_block.without_data`)."""
        return type(self)(shape_only(self.images), shape_only(self.offsets), self.canvas)

    def encodes(self, idx: int | torch.Tensor):
        idx = torch.as_tensor(idx)
        flat = idx.view(-1)
        b, (h, w) = len(flat), self.images.shape[-2:]
        rows = self.offsets[flat, 0].view(b, 1, 1) + torch.arange(h).view(1, h, 1)
        cols = self.offsets[flat, 1].view(b, 1, 1) + torch.arange(w).view(1, 1, w)
        out = torch.zeros(b, self.canvas, self.canvas, dtype=self.images.dtype)
        out[torch.arange(b).view(b, 1, 1), rows, cols] = self.images[flat]
        out = out[:, None]
        return TensorImageBW(out[0] if idx.ndim == 0 else out)


def canvas_stats(images: torch.Tensor, canvas: int) -> tuple[float, float]:
    """Exact pixel mean and std (in [0, 1]) of the canvases, from a histogram of the images."""
    hist = torch.bincount(images.flatten(), minlength=256).double()
    hist[0] += images.shape[0] * (canvas * canvas - images.shape[-2] * images.shape[-1])
    values = torch.arange(256, dtype=torch.float64) / 255
    p = hist / hist.sum()
    mean = float((p * values).sum())
    return mean, float((p * (values - mean) ** 2).sum().sqrt())
