"""Test-time inference beyond one forward pass: flip TTA and sliding-window tiles with blending.

Each function takes a model (any callable from a normalised batch `(B, C, H, W)` to class scores
on axis 1) and returns log-probabilities: their softmax is the averaged probability, their argmax
the prediction, and cross-entropy on them is the loss of the averaged probability, so losses,
metrics and tasks take them where they take logits.
"""
from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F

from fashionseg.recipe.sizes import as_size
from fashionseg.registry.task import Task


def flip_tta(model, x: torch.Tensor, average=None) -> torch.Tensor:
    """The outputs of `x` and of `x` flipped left-right averaged by the task's `average` (by default the log of
    the mean softmax; multi-label: of the mean sigmoids); score maps `(B, n, H, W)` flipped back first."""
    plain, flipped = model(x), model(x.flip(-1))
    if flipped.ndim == 4:
        flipped = flipped.flip(-1)
    return (average or Task().average)([plain, flipped])


def window(size: tuple[int, int], device=None) -> torch.Tensor:
    """A Gaussian blending weight `(H, W)` peaking at the tile's centre (sigma a quarter of each side), never 0."""
    axes = [torch.exp(-0.5 * ((torch.arange(n, device=device) - (n - 1) / 2) / (n / 4)) ** 2) for n in size]
    return torch.outer(*axes).clamp(min=1e-3)


def starts(length: int, tile: int, stride: int) -> list[int]:
    """Tile offsets along one side: every `stride`, plus one flush with the far edge."""
    offsets = list(range(0, length - tile + 1, stride))
    return offsets if offsets[-1] == length - tile else [*offsets, length - tile]


def sliding_window(model, x: torch.Tensor, tile, overlap: float = 0.25) -> torch.Tensor:
    """Score maps of `x` at its own size from overlapping `tile`-sized crops (int or (H, W)),
    `overlap` a fraction of the tile, blended with a Gaussian window; images smaller than the
    tile are padded (edge pixels repeated) and the result cropped back."""
    th, tw = as_size(tile)
    H, W = x.shape[-2:]
    pad_h, pad_w = max(0, th - H), max(0, tw - W)
    padded = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x
    ph, pw = padded.shape[-2:]
    weight = window((th, tw), x.device)
    total, norm = None, torch.zeros(ph, pw, device=x.device)
    for top in starts(ph, th, max(1, round(th * (1 - overlap)))):
        for left in starts(pw, tw, max(1, round(tw * (1 - overlap)))):
            probs = model(padded[..., top: top + th, left: left + tw]).float().softmax(1)
            if total is None:
                total = torch.zeros(*probs.shape[:2], ph, pw, device=x.device)
            total[..., top: top + th, left: left + tw] += probs * weight
            norm[top: top + th, left: left + tw] += weight
    return (total / norm)[..., :H, :W].log()


def test_time_forward(tta: bool = False, tile: int = 0, overlap: float = 0.25, average=None):
    """A `forward(model, x)` for evaluation with the recipe's `tta`, `tile` and `overlap`, flips averaged by
    the task's `average`; None when it is the plain forward pass."""
    if not tta and not tile:
        return None
    forward = partial(flip_tta, average=average) if tta else (lambda model, x: model(x))
    if tile:
        return lambda model, x: sliding_window(partial(forward, model), x, tile, overlap)
    return forward


def describe(tta: bool, tile: int, overlap: float) -> dict:
    """What metrics.json and the report record about how the test set was predicted."""
    return {"flip_tta": bool(tta), "tile": int(tile), "overlap": float(overlap) if tile else None}


FLIPPING = ("flip", "light", "fastai")  # augmentation parts that mirror training images left-right


def unflipped_tta_note(tta: bool, augment) -> str | None:
    """A warning when the test set is scored with mirrored images that training never showed the model."""
    if not tta:
        return None
    from fashionseg.data.augment import PRESETS  # fastai's and kornia's augmentation stacks: only with tta

    spec = str(augment or "none")
    if any(part in FLIPPING for part in PRESETS.get(spec, spec).split("-")):
        return None
    return (f"note: tta scores the test set with left-right mirrored images too, but training never mirrored one "
            f"(augment {augment or 'none'!r}); unless the classes look alike mirrored (Fashion-MNIST's shoes all "
            f"face one way) it lowers accuracy: add flip to data_options.augment or drop tta")
