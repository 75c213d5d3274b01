"""Class colours: parse a colour table, paint masks in it, and read RGB masks through it."""
from __future__ import annotations

import torch

from fashionseg.errors import FashionsegError


def parse_color(color) -> tuple[int, int, int]:
    """'#0080FF', '0080FF' or [0, 128, 255] as an (r, g, b) tuple."""
    if isinstance(color, str):
        text = color.lstrip("#")
        if len(text) == 6:
            try:
                return tuple(int(text[i: i + 2], 16) for i in (0, 2, 4))
            except ValueError:
                pass
    elif len(color) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in color):
        return tuple(color)
    raise FashionsegError(f"colour {color!r} is neither '#RRGGBB' nor three integers 0-255")


def default_colors(n: int) -> list[str]:
    """Distinct colours for data sets that name none (matplotlib's tab20)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return [to_hex(colormaps["tab20"](i % 20)) for i in range(n)]


def palette(colors) -> torch.Tensor:
    """The colour table as a uint8 tensor `(n_classes, 3)`."""
    return torch.tensor([parse_color(c) for c in colors], dtype=torch.uint8)


IGNORED_COLOR = (128, 128, 128)  # how an ignored mask pixel (any value past the classes) is painted


def colorize(mask: torch.Tensor, colors) -> torch.Tensor:
    """Class indices `(H, W)` painted in the class colours, uint8 `(H, W, 3)`; ignored pixels grey."""
    table = torch.cat([palette(colors), torch.tensor([IGNORED_COLOR], dtype=torch.uint8)])
    return table[mask.long().clamp(max=len(colors))]


def rgb_to_indices(rgb: torch.Tensor, colors, tolerance: int = 0, source: str = "mask") -> torch.Tensor:
    """An RGB mask `(H, W, 3)` as class indices `(H, W)` through the colour table.

    Each pixel takes its nearest table colour; one farther than `tolerance` per channel is an error.
    """
    table = palette(colors).to(torch.int16)
    diff = (rgb.to(torch.int16)[:, :, None, :] - table).abs().amax(-1)
    distance, index = diff.min(-1)
    far = distance > tolerance
    if far.any():
        y, x = (int(v) for v in far.nonzero()[0])
        color = "#{:02X}{:02X}{:02X}".format(*rgb[y, x].tolist())
        raise FashionsegError(
            f"{source} has colour {color} (pixel {x},{y}) that is not in the colour table; "
            "add its class or raise data_options.color_tolerance"
        )
    return index.to(torch.uint8)
