"""One augmentation vocabulary for every task, as batch transforms on the training device.

A name is parts joined by '-': `flip` mirrors a random half of the batch left-right, `shiftN`
moves each image by up to N pixels (`shift`: 2), `erase` is timm's random erasing (a random
box of half the normalised images replaced by noise; images only, so for classification),
`light` and `fastai` are fastai's `aug_transforms` (mild, and fastai's defaults); `crop`, `scale`, `rot`,
`persp`, `colour`, `blur`, `noise` and `elastic`, each with an optional strength (`crop0.5`, `rot15`), are
kornia's (see `kornia_augment`), and `classify` and `segment` are the presets for each task. Images and masks of
one item always move together; validation and test batches are never augmented. The integer flips and
shifts cost a fraction of any resampling transform, which matters for small images on a CPU.
"""
from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from fastai.torch_core import TensorImage, TensorMask
from fastai.vision.augment import RandTransform, aug_transforms

from fashionseg.data import augmenting
from fashionseg.data.kornia_augment import KorniaBatch, kornia_part
from fashionseg.errors import FashionsegError

# The documented strong preset of each task: mild geometry plus colour for small classification images, the
# full set (with elastic deformation) for segmentation.
PRESETS = {"classify": "flip-shift2-crop0.7-colour0.2-erase",
           "segment": "flip-crop0.5-rot10-persp0.2-colour0.2-blur-noise-elastic"}

AUGMENT_HELP = ("'none', or parts joined by '-': 'flip' (mirror half the batch), 'shift' or 'shiftN' "
                "(move each image by up to N pixels, default 2), 'erase' (timm's random erasing, classification), "
                "'light' or 'fastai' (fastai's aug_transforms), kornia's 'cropS' (random resized crop keeping at "
                "least S of the area, default 0.5), 'scaleF' (zoom by up to F, 0.2), 'rotD' (up to D degrees, 15), "
                "'perspD' (perspective, 0.2), 'colourF' (colour jitter, 0.2), 'blurS' (sigma, 1), 'noiseS' "
                "(std, 0.05), 'elasticA' (1); or a preset: 'classify' (" + PRESETS["classify"] + "), 'segment' ("
                + PRESETS["segment"] + "); e.g. 'flip-shift6' or 'flip-crop0.5-colour0.2'")


def _per_item(mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return mask.view(-1, *[1] * (x.ndim - 1))


class RandomFlipBatch(RandTransform):
    """Mirror a random share `p` of the training batch left-right, images and masks alike."""

    split_idx, order = 0, 20

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p_item = p

    def before_call(self, b, split_idx):
        super().before_call(b, split_idx)
        x = b[0] if isinstance(b, tuple) else b
        self.flip = torch.rand(x.shape[0], device=x.device) < self.p_item

    def encodes(self, x: TensorImage | TensorMask):
        return torch.where(_per_item(self.flip, x), x.flip(-1), x)


class RandomShiftBatch(RandTransform):
    """Shift each training image (and its mask) by up to `pad` pixels, filling with the border value."""

    split_idx, order = 0, 21

    def __init__(self, pad: int = 2):
        super().__init__()
        self.pad = pad

    def before_call(self, b, split_idx):
        super().before_call(b, split_idx)
        x = b[0] if isinstance(b, tuple) else b
        self.dy, self.dx = (torch.randint(0, 2 * self.pad + 1, (x.shape[0], 1, 1), device=x.device) for _ in "yx")

    def encodes(self, x: TensorImage | TensorMask):
        planes = x if x.ndim == 4 else x[:, None]
        b, c, h, w = planes.shape
        p = self.pad
        padded = F.pad(planes.float(), (p, p, p, p), mode="replicate").to(planes.dtype)
        rows = (torch.arange(h, device=x.device).view(1, h, 1) + self.dy).expand(b, h, w)
        cols = (torch.arange(w, device=x.device).view(1, 1, w) + self.dx).expand(b, h, w)
        flat = (rows * (w + 2 * p) + cols).view(b, 1, h * w).expand(b, c, h * w)
        out = padded.flatten(2).gather(2, flat).view(b, c, h, w)
        return x.__class__(out if x.ndim == 4 else out[:, 0])


class RandomEraseBatch(RandTransform):
    """timm's `RandomErasing` on half the normalised training images: a random box (2-33% of the image)
    filled with per-pixel normal noise. Masks are left alone, so it suits classification."""

    split_idx, order = 0, 100  # after fastai's Normalize (99): timm erases normalised images

    def __init__(self, p: float = 0.5):
        from timm.data.random_erasing import RandomErasing

        super().__init__()
        self.erase = RandomErasing(probability=p, mode="pixel", device="cpu")

    def encodes(self, x: TensorImage):
        self.erase.device = x.device
        return self.erase(x.clone())


def _part(part: str) -> list:
    shift = re.fullmatch(r"shift(\d*)", part)
    if part == "flip":
        return [RandomFlipBatch()]
    if shift and int(shift.group(1) or 2) > 0:
        return [RandomShiftBatch(int(shift.group(1) or 2))]
    if part == "erase":
        return [RandomEraseBatch()]
    if part == "light":
        return aug_transforms(max_rotate=5, max_zoom=1.1, max_lighting=0.2, max_warp=0)
    if part == "fastai":
        return aug_transforms()
    return None


def augmentations(spec: str, void: int | None = None) -> list:
    """Batch transforms for an augmentation name such as 'none', 'flip', 'flip-shift6', 'light' or
    'flip-crop0.5-rot15'; kornia's parts run as one sequence, mask pixels moved in from outside get `void`
    (the data's ignore_index; class 0 when it has none)."""
    if not augmenting(spec):
        return []
    tfms, resampled = [], []
    for part in PRESETS.get(str(spec), str(spec)).split("-"):
        found = _part(part)
        if found is None and kornia_part(part) is None:
            raise FashionsegError(f"augment {spec!r} is not understood: use {AUGMENT_HELP}")
        if found is None:
            resampled.append(kornia_part(part))
        tfms += found or []
    return [*tfms, KorniaBatch(resampled, void or 0)] if resampled else tfms
