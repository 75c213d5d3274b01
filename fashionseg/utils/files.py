"""Files written atomically (a temporary file renamed into place) with the user's umask, and the one-line
errors when a path cannot be written. No torch."""
from __future__ import annotations

import csv
import errno
import io
import os
import tempfile
from pathlib import Path

from fashionseg.errors import FashionsegError

# The process's umask, read once: os.umask can only be read by setting it, which is not thread-safe later.
UMASK = os.umask(0o022)
os.umask(UMASK)


def atomic_write(path: Path, data: bytes | str):
    """Write to a temporary file beside `path`, then rename it into place (mode 0666 less the umask)."""
    path = Path(path)
    if path.is_dir():
        raise FashionsegError(f"cannot write {path}: it is a folder; name a file instead")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~UMASK)  # mkstemp makes 0600 whatever the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)  # the file that was there before stays as it was
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes, for `atomic_write`."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def write_error(path: Path, exc: OSError) -> FashionsegError:
    """One line naming the file that could not be written and what to do about it."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return FashionsegError(f"cannot write {path}: the disk is full; free some space and run again")
    if exc.errno == errno.EFBIG:
        return FashionsegError(f"cannot write {path}: the file is too large for its file system or for this "
                               "process's file size limit (ulimit -f); write it to another file system or raise "
                               "the limit")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FashionsegError(f"cannot write {path}: {exc.strerror}; choose a folder you can write to")
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return FashionsegError(f"cannot write {path}: {blocker} is a file, not a folder; choose another path")
    return FashionsegError(f"cannot write {path}: {exc.strerror or exc}")


def check_file_path(path: Path, flag: str, example: str = "output"):
    """`path` names a file that can be made: not a folder, not under a file (checked before slow work)."""
    if path.is_dir():
        raise FashionsegError(f"{flag} {path} is a folder; name a file in it, e.g. {path / example}")
    check_not_under_file(path, flag)


def check_not_under_file(path: Path, flag: str):
    """No parent of `path` is a file (so the folders it needs can be made)."""
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise FashionsegError(f"{flag} {path} lies under {blocker}, which is a file, not a folder; choose another path")


def csv_text(header: list[str] | None, rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
