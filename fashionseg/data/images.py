"""Reading image files into uint8 tensors, with one clear error for a file that is not an image.

Decoding never lies: EXIF orientation is applied, 16-bit images are scaled to 8 bits (value / 257),
transparent pixels are composited over white, and palette and CMYK images are converted as PIL does.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from fashionseg.errors import FashionsegError


class Unreadable(FashionsegError):
    """A file that cannot be decoded as an image: collected with the others, or skipped (`skip_bad`)."""

    def __init__(self, path, message: str, reason: str):
        super().__init__(message)
        self.path, self.reason = str(path), reason


def unreadable(files: list, bad: list[Unreadable]) -> FashionsegError:
    """One error naming every unreadable file (and why), and the two ways on."""
    named = "; ".join(f"{e.path} ({e.reason})" for e in bad)
    return FashionsegError(f"{len(bad)} of {len(files)} images cannot be read: {named}. Replace or remove them, or "
                           "set data_options.skip_bad=true to leave them out (they are listed in data.json)")


def open_image(path: Path) -> Image.Image:
    """The decoded image; not an image, or one PIL refuses as a decompression bomb, is one clear error.

    (Between PIL's limit and twice it, PIL decodes the image with a DecompressionBombWarning.)
    """
    try:
        image = Image.open(path)
        image.load()
        image = ImageOps.exif_transpose(image)  # a phone photo as it was taken, not as the sensor stored it
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "too many pixels"
        raise Unreadable(path, f"{path} has {size}, more than twice PIL's limit of {Image.MAX_IMAGE_PIXELS:,}, so it "
                               "is refused as a possible decompression bomb; shrink the image first",
                         f"{size}: a possible decompression bomb") from None
    except (UnidentifiedImageError, OSError) as exc:
        reason = "not an image" if isinstance(exc, UnidentifiedImageError) else exc.strerror or str(exc)
        raise Unreadable(path, f"{path} is not an image that can be read: {exc}", reason) from None
    return image


WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # 16-bit (and 32-bit integer) grey
BACKGROUND = 255  # transparent pixels are composited over white


def eight_bit(image: Image.Image, n_in: int) -> Image.Image:
    """`image` in mode RGB (n_in 3) or L (n_in 1): 16-bit values scaled by 1/257 (PIL would clip them to
    white), transparency composited over white (PIL would drop it), palette and CMYK as PIL converts."""
    if image.mode in WIDE_MODES:
        image = Image.fromarray((np.asarray(image, dtype=np.float64) / 257).round().clip(0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (BACKGROUND,) * 3 + (255,))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB" if n_in == 3 else "L")


def read_image(path: Path, n_in: int = 3, size: tuple[int, int] | None = None) -> torch.Tensor:
    """An image as uint8 `(n_in, H, W)`, resized (bilinear) to `size` when given."""
    image = eight_bit(open_image(path), n_in)
    if size and image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    array = np.asarray(image)
    return torch.from_numpy(array.reshape(*array.shape[:2], -1).copy()).permute(2, 0, 1)


def as_image(image, n_in: int) -> torch.Tensor:
    """A file path, PIL image, array `(H, W[, C])` or tensor `(H, W)`/`(C, H, W)` as uint8 `(n_in, H, W)`."""
    if isinstance(image, (str, Path)):
        return read_image(Path(image), n_in)
    if isinstance(image, Image.Image):
        image = np.asarray(eight_bit(ImageOps.exif_transpose(image), n_in))
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(np.array(image))  # a copy: PIL arrays are read-only
        image = image[None] if image.ndim == 2 else image.permute(2, 0, 1)
    if not torch.is_tensor(image) or image.dtype != torch.uint8 or image.ndim not in (2, 3):
        raise FashionsegError(f"an image is a file path, PIL image, uint8 array (H, W[, C]) or uint8 tensor "
                              f"(C, H, W), not {type(image).__name__} {getattr(image, 'dtype', '')}".rstrip())
    image = image[None] if image.ndim == 2 else image
    if image.shape[0] == n_in:
        return image
    if n_in == 1:  # PIL's grey: ITU-R 601-2 luma
        luma = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
        return (image[:3].float() * luma).sum(0, keepdim=True).round().to(torch.uint8)
    return image[:3] if image.shape[0] >= 3 else image[:1].expand(n_in, -1, -1)


def resized(image: torch.Tensor, size) -> torch.Tensor:
    """`(C, H, W)` or a batch `(B, C, H, W)` resized to `size` (bilinear, antialiased as the model's own input
    resizing), same dtype."""
    if size is None or tuple(image.shape[-2:]) == tuple(size):
        return image
    batch = image if image.ndim == 4 else image[None]
    out = torch.nn.functional.interpolate(batch.float(), size=tuple(size), mode="bilinear", antialias=True,
                                          align_corners=False)
    out = out if image.ndim == 4 else out[0]
    return out.round().clamp(0, 255).to(torch.uint8) if image.dtype == torch.uint8 else out
