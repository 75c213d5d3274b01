"""Images with any number of tags each, listed in a CSV: a `file,labels` column of tags separated by spaces
or `|`, or one 0/1 column per tag, and optionally a `split` column (train, valid or test) that sets each image's
split as image-folder's train/ valid/ test/ folders do. Decoded once like image-folder; targets are one 0/1
column per tag."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from fashionseg.data.image_folder import TAG_SEPARATORS, Listing, natural_key, read_table, table_file
from fashionseg.errors import FashionsegError

TAG_COLUMNS = ("labels", "label", "tags")
SPLITS = ("train", "valid", "test")  # the values of the optional `split` column, in the listing's order


@dataclass
class Tagged:
    """Every image with its tags; `listing.labels` holds each image's tags joined by spaces, which
    stratifies a hold-out by tag combination when every combination can spare an item."""

    listing: Listing
    tags: list[str]
    targets: torch.Tensor  # (N, n_tags) uint8, 1 where the image has the tag


def list_tagged(options: dict) -> Tagged:
    """The images and tags of the CSV `data_options.csv` under `data_options.path`."""
    if not options.get("path") or not options.get("csv"):
        raise FashionsegError("multi-label-csv needs data_options.path (the folder of your images) and "
                              "data_options.csv (a CSV of file,labels or of file and one 0/1 column per tag)")
    root = Path(options["path"]).expanduser()
    if not root.is_dir():
        raise FashionsegError(f"{root} is not a folder; set data_options.path to the folder of your images")
    table, rows, header = read_table(root, Path(options["csv"]).expanduser())
    if "file" not in header:
        raise FashionsegError(f"{table} has no 'file' column (header: {', '.join(header) or 'none'}); its first "
                              "line must name the columns: file,labels or file,<tag>,<tag>,...")
    column = next((c for c in TAG_COLUMNS if c in header), None)
    numbered = by_split(table, rows) if "split" in header else list(enumerate(rows, start=2))  # (CSV line, row)
    rows = [row for _, row in numbered]
    counts = [sum((row.get("split") or "train").strip() == s for row in rows) for s in SPLITS]
    files = [table_file(root, table, line, row) for line, row in numbered]
    if not files:
        raise FashionsegError(f"{table} lists no images")
    if not counts[0]:
        raise FashionsegError(f"{table} puts no image in the train split; mark training images 'train' in its "
                              "split column")
    others = [c for c in header if c not in ("file", "split")]
    per_image = tag_cells(rows, column) if column else tag_columns(table, numbered, others)
    tags = sorted({t for image in per_image for t in image}, key=natural_key)
    if not tags:
        raise FashionsegError(f"{table} gives no image a tag; list each image's tags in its labels column")
    index = {t: i for i, t in enumerate(tags)}
    targets = torch.zeros(len(files), len(tags), dtype=torch.uint8)
    for i, image in enumerate(per_image):
        targets[i, [index[t] for t in image]] = 1
    labels = [" ".join(sorted(image, key=natural_key)) for image in per_image]
    return Tagged(Listing(root, files, labels, *counts), tags, targets)


def by_split(table: Path, rows: list[dict]) -> list[tuple[int, dict]]:
    """(CSV line, row) pairs ordered train, valid, test (each in the CSV's order), as a listing holds its splits."""
    numbered = list(enumerate(rows, start=2))
    for line, row in numbered:
        if (row["split"] or "").strip() not in SPLITS:
            raise FashionsegError(f"{table} line {line} has split {row['split']!r}; the split column holds "
                                  f"{', '.join(SPLITS)}")
    return [(line, row) for split in SPLITS for line, row in numbered if row["split"].strip() == split]


def tag_cells(rows: list[dict], column: str) -> list[set[str]]:
    """Each row's tags from one cell, separated by spaces or `|`; an empty cell is an image with no tag."""
    return [{t for t in TAG_SEPARATORS.split((row[column] or "").strip()) if t} for row in rows]


def tag_columns(table: Path, numbered: list[tuple[int, dict]], columns: list[str]) -> list[set[str]]:
    """Each row's tags from one 0/1 column per tag (rows with their CSV line numbers)."""
    if not columns:
        raise FashionsegError(f"{table} has only a file column; add a labels column or one 0/1 column per tag")
    tagged = []
    for line, row in numbered:
        bad = next((c for c in columns if (row[c] or "").strip() not in ("0", "1")), None)
        if bad is not None:
            raise FashionsegError(f"{table} line {line} has {row[bad]!r} in tag column {bad!r}; tag columns hold "
                                  "0 or 1 (or name the tags in one labels column)")
        tagged.append({c for c in columns if row[c].strip() == "1"})
    return tagged


def thresholds(option, tags: list[str]) -> list[float] | str:
    """`data_options.threshold` as one probability per tag: a number for every tag, a list in tag order, a
    `{tag: number}` mapping (other tags 0.5), or "tune" (chosen per tag on the validation set after training)."""
    if option == "tune":
        return "tune"
    if isinstance(option, dict):
        unknown = sorted(set(option) - set(tags))
        if unknown:
            raise FashionsegError(f"data_options.threshold names {', '.join(unknown)}, which are not tags (tags: "
                                  f"{', '.join(tags)})")
        option = [option.get(t, 0.5) for t in tags]
    values = option if isinstance(option, (list, tuple)) else [option] * len(tags)
    if len(values) != len(tags) or not all(isinstance(v, (int, float)) and 0 < v < 1 for v in values):
        raise FashionsegError(f"data_options.threshold must be a probability in (0, 1), one per tag ({len(tags)}: "
                              f"{', '.join(tags)}) as a list or {{tag: value}}, or 'tune'; not {option!r}")
    return [float(v) for v in values]
