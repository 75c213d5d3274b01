"""A run's state from its status.json: running, finished, failed, interrupted, or died (its process gone or
its heartbeat stale). No torch."""
from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from pathlib import Path

# A "running" run written from another host counts as died when its heartbeat is older than this.
STALE_AFTER = 600.0


def run_state(path, stale_after: float = STALE_AFTER) -> str:
    """running, finished, failed, interrupted or died; "unknown" without a readable status.json.

    A run whose status says running has died when, on this host, its process id is gone, or,
    written from another host (or on a system without signals), its `updated` heartbeat is
    older than `stale_after` seconds. The `Heartbeat` callback writes one at least every minute.
    """
    try:
        status = json.loads((Path(path) / "status.json").read_text())
    except (OSError, ValueError):
        return "unknown"
    state = status.get("state", "unknown")
    if state != "running":
        return state
    return "running" if _alive(status, stale_after) else "died"


def run_folders(runs_dir: Path) -> list[Path]:
    """Folders holding a config.json, directly under `runs_dir` or one level down (sweeps), oldest first."""
    configs = [*runs_dir.glob("*/config.json"), *runs_dir.glob("*/*/config.json")]
    return [c.parent for c in sorted(configs, key=lambda c: (c.stat().st_mtime, str(c)))]


def _alive(status: dict, stale_after: float) -> bool:
    if os.name == "posix" and status.get("host") == socket.gethostname() and isinstance(status.get("pid"), int):
        return pid_alive(status["pid"])
    try:
        updated = datetime.fromisoformat(status["updated"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return False
    return time.time() - updated <= stale_after


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
