"""Cheap batch augmentations for small images, applied on the training device.

fastai's affine batch transforms resample every pixel; for 28x28 images on a CPU these
integer flips and shifts give the same regularisation at a fraction of the cost.
"""
from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from fastai.torch_core import TensorImage
from fasttransform import Transform

from fashionseg.errors import FashionsegError


class RandomFlipBatch(Transform):
    """Mirror a random half of the training batch left-right."""

    split_idx, order = 0, 20

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    def encodes(self, x: TensorImage):
        flip = torch.rand(x.shape[0], device=x.device) < self.p
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)


class RandomShiftBatch(Transform):
    """Shift each training image by up to `pad` pixels, filling with the border value."""

    split_idx, order = 0, 21

    def __init__(self, pad: int = 2):
        super().__init__()
        self.pad = pad

    def encodes(self, x: TensorImage):
        b, c, h, w = x.shape
        p = self.pad
        padded = F.pad(x, (p, p, p, p), mode="replicate")
        dy = torch.randint(0, 2 * p + 1, (b, 1, 1), device=x.device)
        dx = torch.randint(0, 2 * p + 1, (b, 1, 1), device=x.device)
        rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy).expand(b, h, w)
        cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx).expand(b, h, w)
        flat = (rows * (w + 2 * p) + cols).view(b, 1, h * w).expand(b, c, h * w)
        out = padded.flatten(2).gather(2, flat).view(b, c, h, w)
        return x.__class__(out)


AUGMENT_HELP = ("'none', or parts joined by '-': 'flip' (mirror half the batch), 'shift' or 'shiftN' "
                "(move each image by up to N pixels, default 2); e.g. 'flip-shift6'")


def augmentations(spec: str) -> list:
    """Batch transforms for an augmentation name such as 'none', 'flip', 'flip-shift' or 'flip-shift6'."""
    if spec == "none":
        return []
    tfms = []
    for part in str(spec).split("-"):
        shift = re.fullmatch(r"shift(\d*)", part)
        if part == "flip":
            tfms.append(RandomFlipBatch())
        elif shift and int(shift.group(1) or 2) > 0:
            tfms.append(RandomShiftBatch(int(shift.group(1) or 2)))
        else:
            raise FashionsegError(f"augment {spec!r} is not understood: use {AUGMENT_HELP}")
    return tfms
