"""A trained model rebuilt from its run folder alone (config.json, data.json, weights) for inference, evaluation, export and analysis."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from fashionseg.build.learner import build_model
from fashionseg.errors import FashionsegError
from fashionseg.models.resize import RunAtSize
from fashionseg.recipe.schema import Recipe
from fashionseg.registry.components import Architecture
from fashionseg.registry.plugins import registry
from fashionseg.registry.task import Task
from fashionseg.runs.folder import RunFolder
from fashionseg.utils.device import device


@dataclass
class Trained:
    """A trained model brought back from its run folder alone, in eval mode on `device`."""

    run: RunFolder
    recipe: Recipe
    summary: dict  # data.json
    task: Task
    arch: Architecture
    model: torch.nn.Module

    def new_model(self, weights: str = "model.pth") -> torch.nn.Module:
        """Another copy of the architecture with the run's `weights` file loaded (e.g. a checkpoint)."""
        return load_model(self.run, self.recipe, self.summary, weights)


def load_model(run: RunFolder, recipe: Recipe, summary: dict, weights: str = "model.pth", on=None):
    """The run's architecture with `weights` loaded, run at its training input size, in eval mode."""
    from fashionseg.utils.allocator import keep_freed_memory

    keep_freed_memory()
    model = run.load_weights(build_model(recipe, len(summary["classes"]), summary["n_in"]), weights)
    if summary.get("input_size"):
        RunAtSize(model, summary["input_size"])
    return model.to(on if on is not None else device()).eval()


def model_from_run(path: str | Path, weights: str = "model.pth", on=None) -> Trained:
    """Rebuild a run's trained model from config.json, data.json and its weights; no training data needed."""
    run = RunFolder.open(path)
    recipe = Recipe.from_dict(run.read_json("config.json"))
    if not (run.path / "data.json").is_file():
        raise FashionsegError(f"{run.path} has no data.json; it did not get past loading its data, train it again")
    summary = run.read_json("data.json")
    reg = registry()
    task, arch = reg.task(summary["task"]), reg.get("architecture", recipe.arch)
    return Trained(run, recipe, summary, task, arch, load_model(run, recipe, summary, weights, on))
