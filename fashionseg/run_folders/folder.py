"""The run folder: config, metrics, weights, figures and report, every file written atomically.

Only the main process writes (see `fashionseg.utils.rank`): on other ranks every method that writes
does nothing. Files get the permissions the user's umask gives (0644 under umask 022).
Importing this module imports neither torch nor fastai."""
from __future__ import annotations

import csv
import io
import itertools
import json
import os
import socket
import time
from datetime import datetime
from pathlib import Path

from fashionseg.errors import FashionsegError
from fashionseg.utils.files import atomic_write, csv_text, png_bytes
from fashionseg.utils.rank import from_main, is_main, main_only

MODEL, SAFETENSORS = "model.pth", "model.safetensors"  # the trained model, in torch's format and in safetensors


class RunFolder:
    """`runs/<recipe>-<timestamp>/` and the files in it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, runs_dir: Path, recipe_name: str) -> "RunFolder":
        """A new folder `<runs_dir>/<recipe_name>-<timestamp>[-N]`, made by rank 0 only.

        Each folder is claimed by an exclusive mkdir, so processes starting in the same second get
        one each. Other ranks create nothing and their writes do nothing; their `path` is rank 0's
        when a torch process group is up (then every rank must call this), else the unsuffixed name.
        """
        base = f"{recipe_name}-{time.strftime('%Y%m%d-%H%M%S')}"
        path = _claim(Path(runs_dir), base) if is_main() else Path(runs_dir) / base
        return cls(from_main(path))

    @classmethod
    def open(cls, path) -> "RunFolder":
        path = Path(path)
        if not (path / "config.json").is_file():
            raise FashionsegError(f"{path} is not a run folder (no config.json); pass a folder under runs/")
        return cls(path)

    @main_only
    def write_json(self, name: str, obj):
        atomic_write(self.path / name, json.dumps(obj, indent=2, default=_jsonable) + "\n")

    @main_only
    def write_text(self, name: str, text: str):
        atomic_write(self.path / name, text)

    def recipe(self):
        """The recipe config.json records; a wrong setting is one error naming the file and the setting."""
        from fashionseg.recipe.schema import Recipe

        return Recipe.from_dict(self.read_json("config.json"), source=self.path / "config.json")

    def read_json(self, name: str):
        try:
            return json.loads((self.path / name).read_text())
        except (OSError, ValueError) as exc:
            raise FashionsegError(f"cannot read {self.path / name}: {exc}") from exc

    @main_only
    def write_csv(self, name: str, header: list[str], rows: list[list]):
        atomic_write(self.path / name, csv_text(header, rows))

    @main_only
    def append_csv(self, name: str, header: list[str], rows: list[list]):
        """Add rows to a CSV file, creating it with `header` if absent; rows already there stay as they are.

        A file with another header is an error: the new rows would land under the wrong columns.
        """
        path = self.path / name
        old = path.read_bytes().decode() if path.is_file() else ""  # bytes: keep the \r\n line ends
        if not old:
            atomic_write(path, csv_text(header, rows))
            return
        found = next(csv.reader(io.StringIO(old, newline="")))
        if found != [str(h) for h in header]:
            raise FashionsegError(f"cannot continue {path}: it has columns {','.join(found)} but the new rows have "
                                  f"{','.join(map(str, header))}; resume with the run's own settings")
        atomic_write(path, old + csv_text(None, rows))

    def read_csv(self, name: str) -> list[dict]:
        """Rows of a CSV file as dicts with numbers parsed; empty if the file is absent."""
        path = self.path / name
        if not path.exists():
            return []
        with open(path, newline="") as f:
            return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]

    @main_only
    def save_weights(self, model, name: str = MODEL):
        """The state_dict as `name`; the final model also as model.safetensors, the format hubs and timm read."""
        import torch

        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        atomic_write(self.path / name, buf.getvalue())
        if name == MODEL:
            from fashionseg.models.weights import safetensors_bytes

            atomic_write(self.path / SAFETENSORS, safetensors_bytes(model))

    def weights_file(self, name: str = MODEL) -> Path:
        """The file holding weights `name`: the final model may be model.pth or model.safetensors alone."""
        names = (MODEL, SAFETENSORS) if name == MODEL else (name,)
        found = [self.path / n for n in names if (self.path / n).is_file()]
        if found:
            return found[0]
        if name != MODEL:
            raise FashionsegError(f"{self.path / name} is missing; name a checkpoint the run folder holds")
        raise FashionsegError(f"{self.path} holds no trained weights ({MODEL} or {SAFETENSORS}): the run did not "
                              "finish (see status.json); "
                              f"resume it with `fashionseg train --resume {self.path}` or train it again")

    def load_weights(self, model, name: str = MODEL):
        """`model` with the weights file `name` loaded; a file that is unreadable or does not fit is one error."""
        path = self.weights_file(name)
        from fashionseg.models.weights import mismatch, read_state_dict

        state = read_state_dict(path, "train the run again")
        wrong = mismatch(model.state_dict(), state)
        if wrong:
            raise FashionsegError(f"{path} does not fit the {type(model).__name__} that {self.path / 'config.json'} "
                                  f"builds ({wrong}); restore the run's own config.json, or train it again")
        model.load_state_dict(state)
        return model

    def save_figure(self, fig, name: str) -> str:
        """Save a matplotlib figure as figures/<name>.png (rank 0 only); returns the path relative to the run."""
        import matplotlib.pyplot as plt

        rel = f"figures/{name}.png"
        if is_main():
            atomic_write(self.path / rel, png_bytes(fig))
        plt.close(fig)
        return rel

    @main_only
    def remove(self, name: str):
        """Delete a file of the run if it is there."""
        (self.path / name).unlink(missing_ok=True)

    @main_only
    def status(self, state: str, **extra):
        """Write status.json: state, process id, host, when the process started and when it last wrote.

        Written again by the same process it keeps `started` and earlier fields (say `epochs_done`),
        except a previous `error`; a new process (a resumed run) starts a fresh record.
        """
        now = _now()
        own = _own_status(self.path / "status.json")
        kept = {k: v for k, v in own.items() if k != "error"}
        self.write_json("status.json", {**kept, "state": state, "pid": os.getpid(), "host": socket.gethostname(),
                                        "started": own.get("started", now), "updated": now, **extra})


def _own_status(path: Path) -> dict:
    """The status this process wrote before, or {} (none yet, unreadable, or another process's)."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return old if old.get("pid") == os.getpid() and old.get("host") == socket.gethostname() else {}


def _claim(runs_dir: Path, base: str) -> Path:
    """Create and return `base`, else `base-2`, `base-3`...: mkdir fails if another process got there first."""
    if runs_dir.exists() and not runs_dir.is_dir():
        raise FashionsegError(f"runs dir {runs_dir} is a file, not a folder; pass --runs-dir a folder")
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        for n in itertools.count(1):
            path = runs_dir / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            _make_figures(path)
            return path
    except OSError as exc:
        raise FashionsegError(f"cannot make a run folder in {runs_dir}: {exc.strerror or exc}; pass --runs-dir a "
                              "folder you can write to") from None


def _make_figures(path: Path):
    """The run's figures/ folder; when that fails the just-claimed run folder goes too (no half-made run)."""
    try:
        (path / "figures").mkdir()
    except OSError:
        path.rmdir()
        raise


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _number(v: str):
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def _jsonable(o):
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "tolist"):  # tensors and numpy values, without importing either
        return o.tolist()
    return str(o)
