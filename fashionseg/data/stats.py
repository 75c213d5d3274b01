"""Per-channel pixel statistics of decoded images, for normalisation."""
from __future__ import annotations

import torch


def channel_stats(images: torch.Tensor, chunk: int = 64) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images `(N, C, H, W)` on the [0, 1] scale, a chunk at a time."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    squares = torch.zeros_like(total)
    for start in range(0, len(images), chunk):
        x = images[start: start + chunk].double().div_(255)
        total += x.sum((0, 2, 3))
        squares += x.square().sum((0, 2, 3))
    n = images.numel() / images.shape[1]
    mean = total / n
    std = (squares / n - mean.square()).clamp(min=1e-12).sqrt()
    return mean.tolist(), std.tolist()
