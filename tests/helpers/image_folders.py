"""Generated class folders for image-folder tests: each class one brightness, so an image's label
can be read off it."""
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# class name -> grey level: the classes differ by brightness, so the label of an image can be read off it
LEVELS = {"1": 30, "2": 120, "10": 220}


def save(path: Path, level: int, size=(12, 10), grey=False):
    """An image of one brightness with a little noise, grey or RGB, `size` = (height, width)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32("/".join(path.parts[-3:]).encode()))  # the same noise every run
    shape = size if grey else (*size, 3)
    array = np.clip(level + rng.integers(-10, 11, shape), 0, 255).astype(np.uint8)
    Image.fromarray(array).save(path)


def class_tree(root: Path, splits=(("train", 6),), grey=False) -> Path:
    """`<split>/<class>/<i>.png|jpg` with mixed sizes; returns root."""
    for split, n in splits:
        for name, level in LEVELS.items():
            for i in range(n):
                suffix = ".jpg" if i % 3 == 2 else ".png"
                save(root / split / name / f"{i}{suffix}", level, (8 + i, 12 + 2 * i), grey)
    return root
