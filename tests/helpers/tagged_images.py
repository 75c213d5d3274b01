"""Generated multi-label images: each tag lights one colour channel, so an image's tags can be read off it."""
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

TAGS = ("red", "green", "blue")  # tag -> the channel it lights


def tag_sets(n: int) -> list[list[str]]:
    """`n` tag sets cycling through every combination of the three tags, the empty one included."""
    return [[t for bit, t in enumerate(TAGS) if (i % 8) >> bit & 1] for i in range(n)]


def save_tagged(path: Path, tags: list[str], size=(12, 12)):
    """An RGB image whose channel is bright (200) for each of its tags and dark (30) otherwise, with noise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    levels = np.array([200 if t in tags else 30 for t in TAGS])
    Image.fromarray(np.clip(levels + rng.integers(-15, 16, (*size, 3)), 0, 255).astype(np.uint8)).save(path)


def tagged_folder(root: Path, n: int = 48, layout: str = "labels", separator: str = " ") -> Path:
    """`images/<i>.png` and `labels.csv`: `file,labels` (tags joined by `separator`) or, with
    layout="columns", `file,red,green,blue` of 0/1; returns root."""
    sets = tag_sets(n)
    lines = ["file,labels"] if layout == "labels" else ["file," + ",".join(TAGS)]
    for i, tags in enumerate(sets):
        save_tagged(root / "images" / f"{i}.png", tags)
        cells = separator.join(tags) if layout == "labels" else ",".join(str(int(t in tags)) for t in TAGS)
        lines.append(f"images/{i}.png,{cells}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root
