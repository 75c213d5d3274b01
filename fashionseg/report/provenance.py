"""Where a run's numbers came from: date, code version, library versions, device and host.

Recorded in metrics.json and report.md so a result can be traced and reproduced. Versions are
read from package metadata, never by importing the packages.
"""
from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path

LIBRARIES = ("torch", "fastai", "timm")


def provenance(device=None, bs: int | None = None, accumulate: int = 1, clip: float = 0.0) -> dict:
    """Date, fashionseg version and git commit, library versions, device, torch threads and host; with the
    recipe's `bs`, the processes that trained (a launcher's WORLD_SIZE), the batches each optimizer step
    accumulated, the batch they made together and the gradient clipping norm."""
    from fashionseg.version import __version__

    prov = {"date": datetime.now().astimezone().isoformat(timespec="seconds"), "fashionseg": __version__,
            **git_commit(), "python": platform.python_version()}
    prov.update({lib: _version(lib) for lib in LIBRARIES})
    torch = sys.modules.get("torch")
    if device is not None:
        prov["device"] = _device_name(torch, device)
    if torch is not None:
        prov["torch_threads"] = torch.get_num_threads()
    prov["host"] = socket.gethostname()
    if bs is not None:  # each process takes `bs` items of its shard per step (fastai's DistributedDL)
        processes = int(os.environ.get("WORLD_SIZE", "1"))
        prov.update(processes=processes, batch_per_process=bs, accumulate=accumulate,
                    effective_batch=bs * processes * accumulate, clip=clip or None)
    return prov


def git_commit() -> dict:
    """`git_commit` and `git_dirty` when fashionseg runs from a git checkout of itself; {} otherwise."""
    here = Path(__file__).resolve().parent

    def git(*args) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(here), *args], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    # An installed copy may sit inside some other repository (a venv in a checkout): ask for the package.
    if git("ls-files", "--error-unmatch", "__init__.py") is None:
        return {}
    commit, changes = git("rev-parse", "HEAD"), git("status", "--porcelain", "--untracked-files=no")
    if commit is None or changes is None:
        return {}
    return {"git_commit": commit, "git_dirty": bool(changes)}


def provenance_markdown(prov: dict, components: dict[str, str]) -> list[str]:
    """Lines of a report's "Provenance" section: the record, then which plugin supplied each component."""
    code = prov.get("fashionseg", "?")
    if "git_commit" in prov:
        code += f" (git {prov['git_commit'][:10]}{', uncommitted changes' if prov.get('git_dirty') else ''})"
    rows = [("date", prov.get("date")), ("fashionseg", code), ("python", prov.get("python")),
            *((lib, prov.get(lib)) for lib in LIBRARIES), ("device", prov.get("device")),
            ("torch threads", prov.get("torch_threads")), ("host", prov.get("host")),
            ("processes", prov.get("processes")), ("batch per process", prov.get("batch_per_process")),
            ("batches per step", prov.get("accumulate")), ("effective batch", prov.get("effective_batch")),
            ("gradient clip norm", prov.get("clip"))]
    lines = ["## Provenance", "", "| | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows if value is not None]
    if components:
        lines += ["", "| component | plugin |", "| --- | --- |"]
        lines += [f"| {component} | {plugin} |" for component, plugin in components.items()]
    return lines


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _device_name(torch, device) -> str:
    """`cuda:0 (NVIDIA H100 80GB HBM3)` for a GPU, the device string otherwise."""
    name = str(device)
    if torch is not None and name.startswith("cuda") and torch.cuda.is_available():
        return f"{name} ({torch.cuda.get_device_name(torch.device(name))})"
    return name
