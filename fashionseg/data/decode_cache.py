"""Decode a list of images once into a uint8 memory-mapped `.npy` of shape (N, C, H, W).

The cache lives in `<data folder>/.fashionseg-cache/`, or under the user cache
($XDG_CACHE_HOME/fashionseg/image-folder/) when the data folder is not writable. Its name holds a
digest of every file's path, size and modification time and of the decode settings, so a changed,
added or removed file makes a new one. It is written to a temporary file and renamed into place:
an interrupted decode leaves no cache behind. Later runs map the file: nothing is read into memory
until a batch asks for it.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fashionseg.data.images import Unreadable, open_image, read_image, unreadable
from fashionseg.data.locate import cache_root
from fashionseg.errors import FashionsegError
from fashionseg.utils.files import atomic_write
from fashionseg.utils.rank import main_console

VERSION = 2  # bump when the decoding changes, so old caches are not reused
CACHE_DIR = ".fashionseg-cache"
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


@dataclass
class Decoded:
    images: torch.Tensor  # (N, C, H, W) uint8, backed by the memory-mapped file
    stats: tuple[list[float], list[float]]  # per-channel mean and std (0-1 scale) of the first `n_stats` items
    decoded: bool  # True when this call decoded the images, False when it reused the cache
    bad: list[str] = field(default_factory=list)  # files that could not be read, skipped (`skip_bad`)


def digest(files: list[str], settings: dict) -> str:
    """Fingerprint of the file list (path, size, modification time) and the decode settings."""
    h = hashlib.sha256(json.dumps({**settings, "version": VERSION}, sort_keys=True).encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def cache_dir(root: Path, where: str | None = "auto") -> Path:
    """Beside the data when writable (and `where` is "auto"), else a folder for this data folder under
    `where` or the user cache."""
    if not where or where == "auto":
        beside = root / CACHE_DIR
        try:
            beside.mkdir(exist_ok=True)
            if os.access(beside, os.W_OK):
                return beside
        except OSError:
            pass
    base = Path(where).expanduser() if where and where != "auto" else cache_root() / "image-folder"
    return base / f"{root.name}-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]}"


def decoded_images(root: Path, files: list[str], size: tuple[int, int] | None, channels="auto",
                   n_stats: int | None = None, where: str | None = "auto", skip_bad: bool = False) -> Decoded:
    """The images of `files` as uint8 (N, C, H, W) at `size` (the first image's when None), with `channels`
    1, 3 or "auto" (1 when every image is grey); decoded once, then read from the cache. Unreadable files
    are one error listing them all, or (`skip_bad`) left as zeros and named in `Decoded.bad`."""
    if channels not in ("auto", 1, 3):
        raise FashionsegError(f"data_options.channels must be 1, 3 or 'auto', not {channels!r}")
    n_stats = len(files) if n_stats is None else n_stats
    settings = {"size": list(size) if size else None, "channels": channels, "n_stats": n_stats,
                "skip_bad": bool(skip_bad)}
    folder = cache_dir(root, where)
    tag = f"images-{'x'.join(map(str, size)) if size else 'native'}-{channels}"
    stem = f"{tag}-{digest(files, settings)}"
    npy, meta_file = folder / f"{stem}.npy", folder / f"{stem}.json"
    cached = read_cache(npy, meta_file)
    if cached is not None:
        return cached
    size = size or first_size(files)
    n_in = channels if channels != "auto" else (1 if all_grey(files) else 3)
    started = time.perf_counter()
    stats, bad = decode_into(npy, files, n_in, size, n_stats, skip_bad)
    seconds = time.perf_counter() - started
    main_console().print(f"decoded {len(files)} images ({n_in}x{size[0]}x{size[1]}) in {seconds:.1f}s into {npy}",
                         markup=False, highlight=False, soft_wrap=True)
    atomic_write(meta_file, json.dumps({"files": len(files), "shape": [len(files), n_in, *size], "stats": stats,
                                        "bad": bad, "root": str(root), "settings": settings, "version": VERSION}))
    remove_stale(folder, tag, keep=stem)
    return Decoded(torch.from_numpy(np.load(npy, mmap_mode="c")), tuple(stats), True, bad)


def read_cache(npy: Path, meta_file: Path) -> Decoded | None:
    """The cached images, mapped (not read); None when absent or unreadable, so they are decoded again."""
    try:
        meta = json.loads(meta_file.read_text())
        return Decoded(torch.from_numpy(np.load(npy, mmap_mode="c")), tuple(meta["stats"]), False, meta["bad"])
    except (OSError, ValueError, KeyError):
        return None


def first_size(files: list[str]) -> tuple[int, int]:
    """The size of the first readable image (the unreadable ones are reported by the decode)."""
    bad = []
    for path in files:
        try:
            width, height = open_image(path).size
            return height, width
        except Unreadable as exc:
            bad.append(exc)
    raise unreadable(files, bad)


def all_grey(files: list[str]) -> bool:
    """Whether every readable image is single-channel (headers only, in parallel threads)."""
    from PIL import Image

    def grey(path):
        try:
            with Image.open(path) as image:
                return image.mode in GREY_MODES
        except (OSError, Image.DecompressionBombError):
            return True  # named with every other unreadable file by the decode

    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return all(list(pool.map(grey, files)))


def decode_into(npy: Path, files: list[str], n_in: int, size: tuple[int, int], n_stats: int, skip_bad: bool):
    """Decode `files` into a new .npy at `npy` (temporary name, renamed when complete); returns
    the per-channel mean and std of the first `n_stats` readable images, and the unreadable files."""
    tmp = npy.with_name(f".{npy.name}.{os.getpid()}.tmp")
    try:
        npy.parent.mkdir(parents=True, exist_ok=True)
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(files), n_in, *size))
        sums, problems = decode_all(out, files, size, n_stats, f"decoding {len(files)} images into {npy.parent}")
        if problems and not skip_bad:
            raise unreadable(files, [problems[i] for i in sorted(problems)])
        out.flush()
        del out
        os.replace(tmp, npy)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # images that cannot be read are FashionsegErrors already: this is a write
            raise FashionsegError(f"cannot write the decoded images to {npy}: {exc.strerror or exc}; free some "
                                  "space or set data_options.cache to a writable folder") from None
        raise
    counted = max(1, min(n_stats, len(files)) - sum(i < n_stats for i in problems))
    mean, square = sums / (counted * size[0] * size[1])
    std = np.sqrt(np.clip(square - mean ** 2, 1e-12, None))
    return [mean.tolist(), std.tolist()], [files[i] for i in sorted(problems)]


def decode_all(out: np.ndarray, files: list[str], size: tuple[int, int], n_stats: int, description: str):
    """Fill `out[i]` with image i in parallel threads (decoders release the GIL); returns the
    per-channel sums and sums of squares (0-1 scale) of the first `n_stats` images, and
    {index: error} for the images that could not be read (left as zeros)."""
    n_in = out.shape[1]
    sums = np.zeros((2, n_in), dtype=np.float64)
    problems = {}

    def decode(i):
        try:
            image = read_image(files[i], n_in, size).numpy()
        except Unreadable as exc:
            problems[i] = exc
            return None
        out[i] = image
        if i >= n_stats:
            return None
        x = image.reshape(n_in, -1).astype(np.float64) / 255
        return np.stack([x.sum(1), np.square(x).sum(1)])

    pool = ThreadPoolExecutor(max_workers=os.cpu_count())
    try:
        with progress(len(files), description) as advance:
            for moments in pool.map(decode, range(len(files))):
                if moments is not None:
                    sums += moments
                advance()
    finally:
        pool.shutdown(cancel_futures=True)  # an interrupt stops the decode now, not after every other image
    return sums, problems


def remove_stale(folder: Path, tag: str, keep: str):
    """Older caches of this folder at the same settings: its files changed since, so nothing reads them again."""
    for old in folder.glob(f"{tag}-*"):
        if not old.name.startswith(keep + "."):
            old.unlink(missing_ok=True)


@contextmanager
def progress(total: int, description: str):
    """A rich bar in a terminal, a plain line per tenth otherwise; silent on ranks other than 0."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    console = main_console()
    if console.is_terminal:
        with Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda: bar.advance(task)
        return
    console.print(description, markup=False, highlight=False, soft_wrap=True)
    done = [0]

    def advance():
        done[0] += 1
        if done[0] * 10 // total != (done[0] - 1) * 10 // total:
            console.print(f"  {done[0]}/{total} decoded", markup=False, highlight=False, soft_wrap=True)

    yield advance
