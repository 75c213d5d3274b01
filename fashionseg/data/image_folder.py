"""Your own classification images, listed with their labels: class folders (`train/<class>/*`,
optional `valid/` and `test/`), a CSV of `file,label`, or labels read from file names by a pattern.

Listing is cheap (names and `stat` only); `decode_cache` turns the listing into tensors once.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

from fashionseg.data.hf_datasets import is_hf
from fashionseg.errors import FashionsegError, unknown_name
from fashionseg.recipe.schema import valid_fold, valid_range

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


@dataclass
class Listing:
    """Every image with its label: training items, then validation items, then test items."""

    root: Path
    files: list[str]  # paths: strings, as Path objects cost seconds per 100,000 files
    labels: list[str]
    n_train: int
    n_valid: int = 0  # items of a valid/ folder
    n_test: int = 0  # items of a test/ folder

    @property
    def classes(self) -> list[str]:
        """The labels sorted with digits compared as numbers ("2" before "10")."""
        return sorted(set(self.labels), key=natural_key)


def natural_key(text: str) -> list:
    """Sort key comparing runs of digits as numbers: "img2" before "img10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def list_images(options: dict) -> Listing:
    """The images and labels that `data_options` point at (path, csv, pattern, train/valid/test names)."""
    if not options.get("path"):
        raise FashionsegError("image-folder needs data_options.path: the folder holding train/<class>/ images "
                              "(or images with data_options.csv or data_options.pattern)")
    root = Path(options["path"]).expanduser()
    if not root.is_dir():
        raise FashionsegError(f"{root} is not a folder; set data_options.path to the folder of your images")
    if is_hf(root):
        return checked(hf_listing(root, options), options.get("classes"))
    if options.get("csv"):
        files, labels = from_csv(root, Path(options["csv"]).expanduser())
        return checked(Listing(root, files, labels, len(files)), options.get("classes"))
    label = by_pattern(options["pattern"]) if options.get("pattern") else None
    names = split_folders(root, options)
    if names[0] is None:
        files, labels = labelled(root, label)
        return checked(Listing(root, files, labels, len(files)), options.get("classes"))
    parts = [labelled(root / name, label) if name else ([], []) for name in names]
    files = [f for part in parts for f in part[0]]
    labels = [y for part in parts for y in part[1]]
    return checked(Listing(root, files, labels, *(len(part[0]) for part in parts)), options.get("classes"))


def hf_listing(root: Path, options: dict) -> Listing:
    """A Hugging Face data set's images (written out once into the cache) and labels, split as saved."""
    from fashionseg.data.decode_cache import cache_dir
    from fashionseg.data.hf_datasets import hf_items

    items = hf_items(root, cache_dir(root, options.get("cache")), masks=False)
    parts = [items.get(split, ([], [])) for split in ("train", "valid", "test")]
    return Listing(root, [f for part in parts for f in part[0]], [y for part in parts for y in part[1]],
                   *(len(part[0]) for part in parts))


def split_folders(root: Path, options: dict) -> list[str | None]:
    """The train, valid and test folder names that exist under `root` (None for an absent one); an
    ImageNet-style `val/` is the validation folder when the default `valid/` is absent."""
    names = [options["train"], options["valid"], options["test"]]
    if names[1] == "valid" and not (root / "valid").is_dir():
        names[1] = "val"
    return [name if name and (root / name).is_dir() else None for name in names]


def only_classes(listing: Listing, classes) -> Listing:
    """The listing's items of the named `classes` only (data_options.classes); an unknown name is an error."""
    if isinstance(classes, str) or not all(isinstance(c, str) for c in classes):
        raise FashionsegError(f"data_options.classes must be a list of class names, not {classes!r}")
    for name in classes:
        if name not in listing.labels:
            raise unknown_name("class", name, set(listing.labels), f"the class folders of {listing.root}")
    wanted = set(classes)
    keep = [i for i, y in enumerate(listing.labels) if y in wanted]
    ends = (listing.n_train, listing.n_train + listing.n_valid, len(listing.files))
    counts = [sum(start <= i < end for i in keep) for start, end in zip((0, *ends[:2]), ends)]
    return Listing(listing.root, [listing.files[i] for i in keep], [listing.labels[i] for i in keep], *counts)


def checked(listing: Listing, classes=None) -> Listing:
    listing = only_classes(listing, classes) if classes else listing
    if len(listing.classes) < 2:
        found = f"only class {listing.classes[0]!r}" if listing.classes else "no images"
        raise FashionsegError(f"{listing.root} holds {found}; classification needs at least two classes")
    return listing


def image_files(folder: Path) -> list[str]:
    """Image files under `folder` (recursively, by suffix), hidden files and folders left out, sorted."""
    found = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.join(parent, n) for n in names
                  if not n.startswith(".") and os.path.splitext(n)[1].lower() in IMAGE_SUFFIXES]
    return sorted(found)


def labelled(folder: Path, label=None) -> tuple[list[str], list[str]]:
    """A split folder's images with their labels: by `label(path)`, else by class subfolder."""
    if label is not None:
        files = image_files(folder)
        return files, [label(f) for f in files]
    classes = sorted((d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: natural_key(d.name))
    stray = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if stray:
        raise FashionsegError(f"{stray[0]} is not inside a class folder; move it into {folder}/<class>/ "
                              "(or label files by name with data_options.pattern)")
    files, labels = [], []
    for d in classes:
        inside = image_files(d)
        if not inside:
            raise FashionsegError(f"class folder {d} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                                  "add images or remove the folder")
        files += inside
        labels += [d.name] * len(inside)
    return files, labels


def by_pattern(pattern: str):
    """A labeller: the regex's group `label`, else its first group, else its whole match, in the file name."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise FashionsegError(f"data_options.pattern {pattern!r} is not a regular expression: {exc}") from None
    group = "label" if "label" in regex.groupindex else 1 if regex.groups else 0

    def label(path: str) -> str:
        match = regex.search(os.path.basename(path))
        if match is None or not match.group(group):
            raise FashionsegError(f"{path} does not match data_options.pattern {pattern!r}, so it has no label; "
                                  "fix the pattern (its first group is the label) or move the file")
        return match.group(group)

    return label


def from_csv(root: Path, table: Path) -> tuple[list[str], list[str]]:
    """Rows of a CSV with a `file,label` header; files relative to `root` (the CSV relative to it too).
    Several tags per image are refused: they belong to the multi-label task, not to one class per combination."""
    table, rows, header = read_table(root, table)
    refuse_tags(table, header, rows)
    for column in ("file", "label"):
        if column not in header:
            raise FashionsegError(f"{table} has no {column!r} column (header: {', '.join(header) or 'none'}); "
                                  "its first line must name the columns file,label")
    files, labels = [], []
    for line, row in enumerate(rows, start=2):
        files.append(table_file(root, table, line, row))
        if not (row["label"] or "").strip():
            raise FashionsegError(f"{table} line {line} ({row['file']}) has an empty label")
        labels.append(row["label"].strip())
    return files, labels


def used_folders(root: Path, options: dict) -> str:
    """Which folders hold the training, validation and test images, for the log."""
    if is_hf(root):
        return f"the splits of the Hugging Face data set {root}"
    if options.get("csv") or not (root / options["train"]).is_dir():
        return f"training images from {root}"
    train, valid, test = split_folders(root, options)
    return ", ".join(f"{role} images from {root / name}" for role, name in
                     (("training", train), ("validation", valid), ("test", test)) if name)


def without(splits: list[list[int]], files: list[str], bad: list[str]) -> list[list[int]]:
    """The split index lists without the items of the unreadable `bad` files (data_options.skip_bad)."""
    if not bad:
        return splits
    bad = set(bad)
    gone = {i for i, f in enumerate(files) if f in bad}
    return [[i for i in split if i not in gone] for split in splits]


def read_table(root: Path, table: Path) -> tuple[Path, list[dict], list[str]]:
    """A CSV's path (relative to `root` unless absolute), its rows as dicts and its header."""
    table = table if table.is_absolute() else root / table
    try:
        with open(table, newline="") as f:
            reader = csv.DictReader(f)
            return table, list(reader), list(reader.fieldnames or [])
    except OSError as exc:
        raise FashionsegError(f"cannot read data_options.csv {table}: {exc.strerror or exc}") from None


def table_file(root: Path, table: Path, line: int, row: dict) -> str:
    """The image a CSV row names, which must be a file under `root`."""
    path = os.path.join(root, (row.get("file") or "").strip())
    if not row.get("file") or not os.path.isfile(path):
        raise FashionsegError(f"{table} line {line} names {row.get('file')!r}, which is not a file in {root}")
    return path


TAG_SEPARATORS = re.compile(r"[|\s]+")


def refuse_tags(table: Path, header: list[str], rows: list[dict]):
    """A `labels` column, a label cell of several tags, or 0/1 columns mean several tags per image."""
    why = "its header has a 'labels' column" if "labels" in header and "label" not in header else ""
    if "label" in header:
        line = next((n for n, row in enumerate(rows, start=2)
                     if len(TAG_SEPARATORS.split((row["label"] or "").strip())) > 1), None)
        why = f"line {line} holds several tags ({rows[line - 2]['label'].strip()!r})" if line else ""
    elif "file" in header and len(header) > 2 and not why and rows and all(
            (row[c] or "").strip() in ("0", "1") for row in rows for c in header if c != "file"):
        why = "its columns other than file are 0/1 tags"
    if why:
        raise FashionsegError(f"{table} lists several tags per image ({why}); classification takes one class per "
                              "image, so train the multi-label task instead: --dataset multi-label-csv (or "
                              "`fashionseg train multi-label`)")


def folder_splits(listing: Listing, request, valid_pct: float) -> tuple[list[list[int]], str]:
    """Train, valid (and test) item indices, and what the final evaluation tests on.

    A valid/ folder validates (`valid` must stay 'test'); else `valid` as usual, where 'test' with no
    test/ folder holds out `valid_pct` of the training items. Without a test/ folder the
    validation items are the test set.
    """
    from fashionseg.data import split_indices

    n_train, n_valid, n_test = listing.n_train, listing.n_valid, listing.n_test
    seed, limit, eval_limit = request.seed, request.limit, request.eval_limit
    if n_valid:
        if request.valid != "test":
            raise FashionsegError(f"{listing.root} has a valid folder, which is the validation set; leave valid "
                                  "at 'test', or rename that folder to hold out part of train instead")
        splits = list(split_indices(n_train, n_valid, "test", seed, limit, eval_limit,
                                    train_items=request.train_items))
        test = list(range(n_train + n_valid, len(listing.files)))[: eval_limit or None]
        return (splits + [test], "test folder") if test else (splits, "valid folder")
    from fashionseg.data import held_out_count, stratifiable

    valid = request.valid
    if valid == "test" and not n_test:
        valid = str(fraction(valid_pct))
    train_labels = listing.labels[:n_train]
    splits = list(split_indices(n_train, n_test, valid, seed, limit, eval_limit, train_labels, request.train_items))
    if n_test:
        return splits, "test folder"
    if valid_range(valid) is not None or valid_fold(valid) is not None:
        return splits, f"validation items ({valid} of the training images)"
    how = "stratified by class" if stratifiable(train_labels, held_out_count(valid, n_train)) else \
        "at random: a class has a single image or there are more classes than held-out images"
    return splits, f"validation items ({valid} of the training images, {how})"


def fraction(value) -> float:
    """`data_options.valid_pct` as a number in (0, 1)."""
    try:
        share = float(value)
    except (TypeError, ValueError):
        share = -1.0
    if not 0 < share < 1:
        raise FashionsegError(f"data_options.valid_pct must be a fraction in (0, 1), not {value!r}")
    return share
