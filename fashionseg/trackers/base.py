"""What every tracker shares: the package check, the `Tracker` callback's contract, the saved tracker-run
ids (trackers.json), and what a tracker logs (the run's parameters and final test metrics)."""
from __future__ import annotations

import importlib.util

from fastai.callback.core import Callback

from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import flat_settings
from fashionseg.run_folders.folder import RunFolder
from fashionseg.run_folders.summary import scalar_metrics

RECORD = "trackers.json"  # the tracker runs' ids, so that a resumed run continues them


ARTIFACTS = ("report.md", "metrics.json", "config.json", "data.json", "metrics.csv", "iterations.csv")


def check_trackers(names) -> None:
    """Every tracker asked for is installed (its package and its extra share its name); checked before any
    run folder exists."""
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise FashionsegError(f"--track {name} needs {name}: pip install 'fashionseg[{name}]'")


class Tracker(Callback):
    """A tracker's fastai callback that also hears how the whole run ended (test set and report included)."""

    def end(self, status: str):
        """`status`: FINISHED, FAILED or KILLED (MLflow's run states)."""
        raise NotImplementedError


def in_fit_only(cb: Callback) -> bool:
    """False (and the callback sits out) during `lr_find` and `get_preds`, which raise fit events too."""
    cb.run = not (hasattr(cb.learn, "lr_finder") or hasattr(cb.learn, "gather_preds"))
    return cb.run


def record(folder: RunFolder, name: str, info: dict | None = None) -> dict:
    """The tracker's saved ids from trackers.json; with `info`, saves them first."""
    saved = folder.read_json(RECORD) if (folder.path / RECORD).is_file() else {}
    if info is not None:
        saved[name] = info
        folder.write_json(RECORD, saved)
    return saved.get(name, {})


def run_params(built) -> dict:
    """What a tracker records as the run's parameters: the recipe, the data's summary, the components' plugins."""
    lists = ("colors", "stats", "class_counts", "class_weights", "skipped")  # in data.json, too long for parameters
    data = {f"data.{k}": v for k, v in built.data.summary().items() if k not in lists}
    plugins = {f"plugin.{k.replace(' ', '.')}": v for k, v in built.parts.plugins().items()}
    n_params = sum(p.numel() for p in built.learn.model.parameters())
    return {**flat_settings(built.recipe.to_dict()), **data, **plugins, "model.parameters": n_params}


def test_metrics(folder: RunFolder) -> dict[str, float]:
    """The final scalar metrics from metrics.json as test_<name> (valid_* ones are the last epoch's, logged already)."""
    if not (folder.path / "metrics.json").is_file():
        return {}
    results = scalar_metrics(folder.read_json("metrics.json"))
    return {k if k.startswith("test_") else f"test_{k}": float(v) for k, v in results.items()
            if not k.startswith("valid_")}


def experiment_name(recipe) -> str:
    """The recipe's `experiment`, else its name."""
    return recipe.experiment or recipe.name
