"""Reading image files into uint8 tensors, with one clear error for a file that is not an image."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import FashionsegError


def open_image(path: Path) -> Image.Image:
    """The decoded image; not an image, or one PIL refuses as a decompression bomb, is one clear error.

    (Between PIL's limit and twice it, PIL decodes the image with a DecompressionBombWarning.)
    """
    try:
        image = Image.open(path)
        image.load()
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "too many pixels"
        raise FashionsegError(f"{path} has {size}, more than twice PIL's limit of {Image.MAX_IMAGE_PIXELS:,}, so it "
                              "is refused as a possible decompression bomb; shrink the image first") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise FashionsegError(f"{path} is not an image that can be read: {exc}") from None
    return image


def read_image(path: Path, n_in: int = 3, size: tuple[int, int] | None = None) -> torch.Tensor:
    """An image as uint8 `(n_in, H, W)`, resized (bilinear) to `size` when given."""
    image = open_image(path).convert("RGB" if n_in == 3 else "L")
    if size and image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    array = np.asarray(image)
    return torch.from_numpy(array.reshape(*array.shape[:2], -1).copy()).permute(2, 0, 1)
