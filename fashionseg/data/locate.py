"""Find a data set on disk: explicit path, environment, the environment's own data roots,
system package, cache. Downloads happen only when asked for (`data_options.download=true`)."""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from fashionseg.errors import FashionsegError

DATA_ENV = "FASHIONSEG_DATA"
SYSTEM_ROOT = Path("/usr/share/datasets")


def prefix_roots_file() -> Path:
    """Data roots of this Python environment, one folder per line (written by scripts/setup.sh),
    so `.venv/bin/fashionseg` finds the development data without sourcing anything."""
    return Path(sys.prefix) / "etc" / "fashionseg" / "data-roots"


def prefix_roots() -> list[Path]:
    path = prefix_roots_file()
    if not path.is_file():
        return []
    return [Path(line.strip()).expanduser() for line in path.read_text().splitlines() if line.strip()]


def cache_root() -> Path:
    """Where downloaded data sets live: $XDG_CACHE_HOME/fashionseg or ~/.cache/fashionseg."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fashionseg"


def candidate_dirs(name: str, explicit: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data set `name`, in order."""
    dirs = []
    if explicit:
        dirs.append(Path(explicit).expanduser())
    for root in filter(None, os.environ.get(DATA_ENV, "").split(os.pathsep)):
        dirs.append(Path(root).expanduser() / name)
    dirs += [root / name for root in prefix_roots()]
    dirs += [SYSTEM_ROOT / name, cache_root() / name]
    return dirs


def find_data(name: str, required: list[str], explicit=None) -> Path | None:
    """The first candidate folder holding every file in `required`, else None.

    An explicit path is the only place looked at: a wrong one is an error, not a fallback; so is a
    $FASHIONSEG_DATA folder that does not exist or holds an incomplete copy of the data set.
    """
    if explicit:
        missing = [f for f in required if not (Path(explicit).expanduser() / f).exists()]
        if missing:
            raise FashionsegError(f"{explicit} lacks {', '.join(missing)}; point the path at a folder holding them.")
        return Path(explicit).expanduser()
    check_env_roots(name, required)
    for folder in candidate_dirs(name):
        if all((folder / f).exists() for f in required):
            return folder
    return None


def check_env_roots(name: str, required: list[str]):
    """$FASHIONSEG_DATA is used or refused, never silently passed over: a root that is not a folder, or a
    `<root>/<name>/` that lacks one of the data set's files, is an error naming it."""
    for root in filter(None, os.environ.get(DATA_ENV, "").split(os.pathsep)):
        root = Path(root).expanduser()
        if not root.is_dir():
            raise FashionsegError(f"{DATA_ENV}={root} is not a folder; point it at the folder that holds {name}/ "
                                  "(or unset it)")
        missing = [f for f in required if not (root / name / f).exists()]
        if (root / name).is_dir() and missing:
            raise FashionsegError(f"{root / name} (from {DATA_ENV}) lacks {', '.join(missing)}; copy the missing "
                                  f"files there, or point {DATA_ENV} at a complete copy")


def not_found(name: str, explicit=None, downloadable: bool = False) -> FashionsegError:
    """The error for a data set found nowhere: every place searched, and what to do."""
    looked = ", ".join(str(d) for d in candidate_dirs(name, explicit))
    fetch = (" It is not downloaded unless you ask: add --set data_options.download=true to fetch it into "
             f"{cache_root() / name}." if downloadable else "")
    return FashionsegError(f"data set {name!r} not found (looked in {looked}); set {DATA_ENV} to the folder "
                           f"that holds {name}/ or data_options.path to the data set's own folder.{fetch}")


def download(url: str, dest: Path, md5: str) -> Path:
    """Download `url` to `dest` with a progress bar; keep it only if its MD5 matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task(f"downloading {dest.name}", total=total)
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    digest.update(chunk)
                    progress.advance(task, len(chunk))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FashionsegError(f"could not download {url}: {exc}") from exc
    if digest.hexdigest() != md5:
        tmp.unlink(missing_ok=True)
        raise FashionsegError(f"{url} failed its checksum (got {digest.hexdigest()}, expected {md5}); try again.")
    os.replace(tmp, dest)
    return dest
