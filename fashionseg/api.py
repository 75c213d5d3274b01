"""The notebook API: `fashionseg.load_run(path)` for a trained run's predictions, test data and Learner
(a `TrainedRun`, also `fashionseg.Run`), and `fashionseg.build_learner(recipe, **overrides)` for a
fastai Learner straight from a recipe."""
from __future__ import annotations

from fastai.learner import Learner

from fashionseg.build.learner import build_learner as build
from fashionseg.infer.trained import TrainedRun, load_run
from fashionseg.recipe.schema import Recipe
from fashionseg.registry.recipes import find_recipe

Run = TrainedRun  # the name the notebook API has always used


def build_learner(recipe: Recipe | str, **overrides) -> Learner:
    """A fastai Learner for a recipe (or a recipe's name), settings overridden as on the command line
    (`epochs=1`, `bs=64`, `data_options.augment="flip"`); no run folder is made."""
    recipe = find_recipe(recipe) if isinstance(recipe, str) else recipe
    return build(recipe.override(**overrides)).learn


__all__ = ["Run", "TrainedRun", "build_learner", "load_run"]
