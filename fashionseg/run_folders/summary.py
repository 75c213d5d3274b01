"""One `RunSummary` per run folder: state, epochs, last validation scores, final test metrics,
settings and paths, read from its files alone (no torch). `fashionseg runs`, `compare`, `sweep` and
the Python API all read runs through it."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import Recipe, flat_settings
from fashionseg.registry.plugins import registry
from fashionseg.run_folders.folder import RunFolder
from fashionseg.run_folders.state import run_state

# metrics.csv columns that are not a validation metric
NOT_METRICS = frozenset({"epoch", "train_loss", "valid_loss", "elapsed_seconds", "time", "train_seconds", "lr"})


def scalar_metrics(results: dict) -> dict[str, float]:
    """The single-number entries of a metrics.json (per-class tables, figures and the rest left out)."""
    return {k: v for k, v in results.items() if isinstance(v, (int, float))}


def headline_metrics(keys: list[str], recipe_metrics, keep: tuple[str, ...] = ()) -> list[str]:
    """Of a run's scalar metric `keys`, those a table shows by default: the losses, the ones the recipe's
    `metrics` name (`per-class-accuracy` -> `per_class_accuracy`) and `keep`; every key when the recipe names
    none of them. The task's further scores (precision, recall, F1 averages, ROC-AUC, calibration, ...) stay in
    metrics.json and report.md, and `compare --metrics all` shows them."""
    named = {str(m).replace("-", "_") for m in recipe_metrics or ()} | set(keep)
    chosen = [k for k in keys if k in named or k.endswith("loss")]
    return chosen if any(not k.endswith("loss") for k in chosen) else list(keys)


@dataclass
class RunSummary:
    """A run as its folder records it. `test_metrics` only for finished runs; `settings` is config.json as
    this version reads it (see `settings_of`); `last_epoch` is the last row of metrics.csv."""

    path: Path
    recipe: str | None
    state: str
    epochs_done: int
    epochs: int | None
    last_epoch: dict = field(default_factory=dict)
    test_metrics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    started: str | None = None

    @classmethod
    def read(cls, path, strict: bool = True) -> "RunSummary":
        """The summary of the run folder at `path`; one clear error if it is not a run folder, or (`strict`)
        if its config.json or metrics.json cannot be read; not strict, unreadable files read as empty."""
        run = RunFolder.open(path)
        read_json = run.read_json if strict else lambda name: _json(run.path / name)
        config = read_json("config.json")
        epochs = run.read_csv("metrics.csv")
        state = run_state(run.path)
        finished = state == "finished" and (run.path / "metrics.json").is_file()
        return cls(path=run.path, recipe=config.get("name"), state=state, epochs_done=len(epochs),
                   epochs=config.get("epochs"), last_epoch=epochs[-1] if epochs else {},
                   test_metrics=scalar_metrics(read_json("metrics.json")) if finished else {},
                   settings=settings_of(config, _json(run.path / "data.json").get("task")), started=_json(run.path / "status.json").get("started"))

    @property
    def valid_loss(self) -> float | None:
        return self.last_epoch.get("valid_loss")

    @property
    def metric(self) -> str | None:
        """The first validation metric metrics.csv records (e.g. accuracy), if any."""
        return next((k for k in self.last_epoch if k not in NOT_METRICS), None)

    def to_dict(self) -> dict:
        return {**asdict(self), "path": str(self.path), "valid_loss": self.valid_loss, "metric": self.metric,
                "metric_value": self.last_epoch.get(self.metric)}


def settings_of(config: dict, task: str | None = None) -> dict:
    """A config.json as this version reads it (older runs' settings renamed, later settings at their defaults,
    the loss by name where older runs left it to the `task`), so that runs of two versions differ only where
    their experiments do; as written when it is newer."""
    try:
        settings = Recipe.from_dict(config).to_dict()
    except (FashionsegError, TypeError, ValueError):  # settings this version does not know, or a bad value
        return config
    if not settings["loss"] and task:
        try:
            settings["loss"] = registry().task(task).default_loss
        except FashionsegError:  # a task no installed plugin provides: leave the setting as recorded
            pass
    return settings


def flat_run_settings(summary: RunSummary, leave_out=("name", "description")) -> dict:
    """The run's settings as flat `a.b` keys, labels (name, description) left out: what tells runs apart."""
    return {k: v for k, v in flat_settings(summary.settings).items() if k not in leave_out}


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
