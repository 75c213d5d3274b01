"""The resampling part of the augmentation vocabulary: kornia transforms on whole training batches, on the
device, masks moved with their images (nearest neighbour) and void where pixels come in from outside.

Each part takes its strength after its name (`crop0.5`, `rot15`); a bare name takes the default.
"""
from __future__ import annotations

import re

import torch
from fasttransform import ItemTransform

# name: (default strength, what it does, the kornia module for that strength and an image's channel count)
KORNIA_PARTS = {
    "crop": (0.5, "random resized crop keeping at least this share of the area, back to the batch's size"),
    "scale": (0.2, "scale jitter: zoom in or out by up to this fraction"),
    "rot": (15, "rotation by up to this many degrees"),
    "persp": (0.2, "perspective distortion of this strength (0-1)"),
    "colour": (0.2, "colour jitter: brightness, contrast, saturation (and a quarter of it in hue); grey images "
                    "brightness and contrast only"),
    "blur": (1.0, "Gaussian blur of up to this sigma, on a fifth of the images"),
    "noise": (0.05, "Gaussian pixel noise of this std (images in 0-1), on a fifth of the images"),
    "elastic": (1.0, "elastic deformation of this strength (segmentation)"),
}


def kornia_module(name: str, strength: float, channels: int, size: tuple[int, int]):
    """The kornia augmentation for one part at `strength` on images of `channels` and (H, W) `size`."""
    import kornia.augmentation as K

    s = float(strength)
    if name == "crop":
        return K.RandomResizedCrop(size, scale=(s, 1.0))
    if name == "scale":
        return K.RandomAffine(degrees=0, scale=(1 - s, 1 + s), p=0.5)
    if name == "rot":
        return K.RandomRotation(s, p=0.5)
    if name == "persp":
        return K.RandomPerspective(s, p=0.5)
    if name == "colour" and channels == 3:
        return K.ColorJitter(s, s, s, min(s / 4, 0.5), p=0.8)
    if name == "colour":
        return K.ColorJitter(s, s, p=0.8)
    if name == "blur":
        return K.RandomGaussianBlur((5, 5), (0.1, max(s, 0.1)), p=0.2)
    if name == "noise":
        return K.RandomGaussianNoise(std=s, p=0.2)
    side = min(size) // 4 * 2 + 1  # kornia's 63-pixel kernel suits ~256 px; a smaller image takes a smaller one
    k = min(63, side)
    return K.RandomElasticTransform(kernel_size=(k, k), sigma=(k / 2, k / 2), alpha=(s, s), p=0.5)


def kornia_part(part: str) -> tuple[str, float] | None:
    """('rot', 15.0) for 'rot15', ('crop', 0.5) for 'crop' (with 'color' as 'colour'); None for another name."""
    found = re.fullmatch(r"([a-z]+)(\d+(?:\.\d+)?|\.\d+)?", part.replace("color", "colour"))
    if not found or found.group(1) not in KORNIA_PARTS:
        return None
    return found.group(1), float(found.group(2) or KORNIA_PARTS[found.group(1)][0])


class KorniaBatch(ItemTransform):
    """One kornia `AugmentationSequential` over a training batch: images and masks (`data_keys` input and mask)
    share each draw; masks are resampled with nearest neighbour and pixels moved in from outside get `void`."""

    split_idx, order = 0, 30  # on 0-1 images after IntToFloatTensor (10), before Normalize (99)

    def __init__(self, parts: list[tuple[str, float]], void: int = 0):
        super().__init__()
        self.parts, self.void, self.built = parts, void, {}

    def sequence(self, x: torch.Tensor):
        """The sequence for this batch's channels and size, built once per shape and device."""
        from kornia.augmentation import AugmentationSequential

        key = (x.shape[1], tuple(x.shape[-2:]), x.device)
        if key not in self.built:
            modules = [kornia_module(name, s, x.shape[1], tuple(x.shape[-2:])) for name, s in self.parts]
            self.built[key] = AugmentationSequential(*modules, data_keys=["input", "mask"]).to(x.device)
        return self.built[key]

    def encodes(self, b: list):
        x, y = b[0], b[1]
        if not is_mask(y):
            return [type(x)(self.sequence(x)(x.as_subclass(torch.Tensor), data_keys=["input"])), *b[1:]]
        shifted = (y.as_subclass(torch.Tensor)[:, None] + 1).to(x.dtype)  # 0 marks pixels from outside
        image, mask = self.sequence(x)(x.as_subclass(torch.Tensor), shifted)
        mask = mask[:, 0].round().long() - 1
        return [type(x)(image), type(y)(torch.where(mask < 0, self.void, mask)), *b[2:]]


def is_mask(y) -> bool:
    from fastai.torch_core import TensorMask

    return isinstance(y, TensorMask)
