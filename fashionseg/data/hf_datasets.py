"""Hugging Face `datasets` saved to disk (`save_to_disk`) or as parquet files, read offline.

The images (and masks) are written out once as files into the data folder's cache, then read like any
image or mask folder: one decode path, one cache. Splits: train; validation (or valid, val); test.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from fashionseg.errors import FashionsegError

SPLITS = {"train": "train", "validation": "valid", "valid": "valid", "val": "valid", "test": "test"}
MASK_COLUMNS = ("mask", "annotation", "segmentation", "label", "semantic_mask")


def parquet_files(root: Path) -> list[Path]:
    return sorted([*Path(root).glob("*.parquet"), *Path(root).glob("data/*.parquet")])


def is_hf(root: Path) -> bool:
    """Whether `root` is a data set saved by `save_to_disk`, or a folder of parquet files."""
    root = Path(root)
    return (root / "dataset_dict.json").is_file() or (root / "state.json").is_file() or bool(parquet_files(root))


def hf_splits(root: Path, cache: Path) -> dict:
    """Our split names (train, valid, test) -> `datasets.Dataset`, read without the network."""
    try:
        import datasets
    except ImportError:
        raise FashionsegError("reading Hugging Face data sets needs datasets: pip install 'fashionseg[datasets]'") from None
    root = Path(root)
    try:
        if parquet_files(root) and not (root / "state.json").is_file():
            by_split = {}
            for f in parquet_files(root):
                by_split.setdefault(f.name.split("-")[0].split(".")[0], []).append(str(f))
            loaded = datasets.load_dataset("parquet", data_files=by_split, cache_dir=str(cache / "hf-arrow"))
        else:
            loaded = datasets.load_from_disk(str(root))
    except (OSError, ValueError) as exc:
        raise FashionsegError(f"{root} cannot be read as a Hugging Face data set: {exc}") from None
    named = loaded if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
    unknown = sorted(set(named) - set(SPLITS))
    if unknown or "train" not in named:
        raise FashionsegError(f"{root} has splits {', '.join(named)}; name them train, validation (or valid, val) "
                              "and test")
    return {SPLITS[name]: ds for name, ds in named.items()}


def image_columns(ds, root: Path) -> list[str]:
    import datasets

    found = [name for name, feature in ds.features.items() if isinstance(feature, datasets.Image)]
    if not found:
        raise FashionsegError(f"{root} has no image column (columns: {', '.join(ds.features)})")
    return sorted(found, key=lambda name: name != "image")  # `image` first when there is one


def label_column(ds, root: Path) -> str:
    """The class label column: a ClassLabel feature, else one named label."""
    import datasets

    found = [n for n, f in ds.features.items() if isinstance(f, datasets.ClassLabel)] or \
        [n for n in ("label", "labels") if n in ds.features]
    if not found:
        raise FashionsegError(f"{root} has no label column (columns: {', '.join(ds.features)}); classification "
                              "needs a ClassLabel column or one named label")
    return found[0]


def mask_column(ds, root: Path) -> str:
    """The mask column: an image column other than the image, preferring the usual names."""
    others = image_columns(ds, root)[1:]
    if not others:
        raise FashionsegError(f"{root} has one image column; segmentation needs a second one holding the masks "
                              f"(columns: {', '.join(ds.features)})")
    return sorted(others, key=lambda name: name not in MASK_COLUMNS)[0]


def written(ds, column: str, folder: Path) -> list[str]:
    """The column's images as files in `folder` (stored bytes written as they are), made once."""
    import datasets

    if not folder.is_dir():
        tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            raw = ds.select_columns([column]).cast_column(column, datasets.Image(decode=False))
            for i, item in enumerate(raw):
                cell = item[column] or {}
                data = cell.get("bytes") or (Path(cell["path"]).read_bytes() if cell.get("path") else b"")
                (tmp / f"{i:08d}{Path(cell.get('path') or '').suffix}").write_bytes(data)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return sorted(str(p) for p in folder.iterdir())


def export_folder(root: Path, cache: Path, split: str, column: str) -> Path:
    """Where one split's column goes in the cache: named by a digest of the data set's files."""
    from fashionseg.data.decode_cache import digest

    files = sorted(str(p) for p in Path(root).rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
    return cache / f"hf-{digest(files, {})}" / split / column


def hf_items(root: Path, cache: Path, masks: bool) -> dict[str, tuple[list[str], list]]:
    """Per split: the image files and the label names, or with `masks` (a mask-folder reader) the mask files."""
    out = {}
    for split, ds in hf_splits(root, cache).items():
        image = image_columns(ds, root)[0]
        files = written(ds, image, export_folder(root, cache, split, image))
        if masks:
            mask = mask_column(ds, root)
            out[split] = (files, written(ds, mask, export_folder(root, cache, split, mask)))
            continue
        label = label_column(ds, root)
        feature = ds.features[label]
        values = ds[label]
        names = [feature.int2str(v) if hasattr(feature, "int2str") else str(v) for v in values]
        out[split] = (files, names)
    return out
