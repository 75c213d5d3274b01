"""Pascal VOC segmentation as it comes: JPEGImages/, SegmentationClass/ palette PNGs (255 = void) and the
split lists in ImageSets/Segmentation/; VOC's class names and palette."""
from __future__ import annotations

from pathlib import Path

from fashionseg.errors import FashionsegError

CLASSES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
           "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]


def palette(n: int = len(CLASSES)) -> list[str]:
    """VOC's colour for each class index (the bit-interleaved table of the VOC devkit)."""
    colors = []
    for index in range(n):
        rgb, c = [0, 0, 0], index
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((c >> channel) & 1) << (7 - bit)
            c >>= 3
        colors.append("#{:02X}{:02X}{:02X}".format(*rgb))
    return colors


def is_voc(root: Path) -> bool:
    """Whether `root` is laid out as a VOC release (JPEGImages/ and SegmentationClass/)."""
    return (Path(root) / "JPEGImages").is_dir() and (Path(root) / "SegmentationClass").is_dir()


def voc_pairs(root: Path, split: str) -> list[tuple[str, str]]:
    """The (image, mask) files named in ImageSets/Segmentation/<split>.txt, one stem per line."""
    listed = Path(root) / "ImageSets" / "Segmentation" / f"{split}.txt"
    if not listed.is_file():
        raise FashionsegError(f"{listed} is missing: a VOC folder lists its {split} images there, one name a line")
    stems = [line.strip() for line in listed.read_text().splitlines() if line.strip()]
    pairs = [(str(root / "JPEGImages" / f"{s}.jpg"), str(root / "SegmentationClass" / f"{s}.png")) for s in stems]
    missing = [p for pair in pairs for p in pair if not Path(p).is_file()]
    if missing:
        raise FashionsegError(f"{listed} names {len(missing)} files that do not exist, e.g. {missing[0]}")
    return pairs
