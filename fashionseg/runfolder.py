"""The run folder: config, metrics, weights, figures and report, every file written atomically."""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from .errors import FashionsegError


def atomic_write(path: Path, data: bytes | str):
    """Write to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunFolder:
    """`runs/<recipe>-<timestamp>/` and the files in it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, runs_dir: Path, recipe_name: str) -> "RunFolder":
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(runs_dir) / f"{recipe_name}-{stamp}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        path.mkdir(parents=True)
        (path / "figures").mkdir()
        return cls(path)

    @classmethod
    def open(cls, path) -> "RunFolder":
        path = Path(path)
        if not (path / "config.json").is_file():
            raise FashionsegError(f"{path} is not a run folder (no config.json); pass a folder under runs/")
        return cls(path)

    def write_json(self, name: str, obj):
        atomic_write(self.path / name, json.dumps(obj, indent=2, default=_jsonable) + "\n")

    def write_text(self, name: str, text: str):
        atomic_write(self.path / name, text)

    def read_json(self, name: str):
        try:
            return json.loads((self.path / name).read_text())
        except (OSError, ValueError) as exc:
            raise FashionsegError(f"cannot read {self.path / name}: {exc}") from exc

    def write_csv(self, name: str, header: list[str], rows: list[list]):
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows(rows)
        atomic_write(self.path / name, buf.getvalue())

    def read_csv(self, name: str) -> list[dict]:
        """Rows of a CSV file as dicts with numbers parsed; empty if the file is absent."""
        path = self.path / name
        if not path.exists():
            return []
        with open(path, newline="") as f:
            return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]

    def save_weights(self, model: torch.nn.Module, name: str = "model.pth"):
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        atomic_write(self.path / name, buf.getvalue())

    def load_weights(self, model: torch.nn.Module, name: str = "model.pth"):
        path = self.path / name
        if not path.is_file():
            raise FashionsegError(f"{path} is missing; did the run finish?")
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model

    def save_figure(self, fig, name: str) -> str:
        """Save a matplotlib figure as figures/<name>.png; returns the path relative to the run."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        rel = f"figures/{name}.png"
        atomic_write(self.path / rel, buf.getvalue())
        return rel

    def status(self, state: str, **extra):
        self.write_json("status.json", {"state": state, "time": time.strftime("%Y-%m-%d %H:%M:%S"), **extra})


def _number(v: str):
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def _jsonable(o):
    if isinstance(o, (Path,)):
        return str(o)
    if isinstance(o, torch.Tensor):
        return o.tolist()
    if hasattr(o, "item"):
        return o.item()
    return str(o)
