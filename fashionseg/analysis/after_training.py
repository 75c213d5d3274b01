"""Analyses a recipe asks for after training (`ensemble`, `tsne`), written into the run's own report
as `fashionseg evaluate --ensemble K` and `fashionseg embed` would add them later."""
from __future__ import annotations

from ..errors import FashionsegError


def check_after_training(recipe, parts):
    """A t-SNE needs a task that supports `embed` and an architecture that declares its feature layer."""
    if not recipe.tsne:
        return
    if "embed" not in parts.task.commands:
        raise FashionsegError(f"tsne applies to tasks that support embed; {parts.task.name!r} does not: drop --tsne")
    if not parts.arch.feature_layer:
        raise FashionsegError(f"tsne needs the features of architecture {parts.arch.name!r}, which declares no "
                              "feature_layer: drop --tsne, or set Architecture(..., feature_layer=...) in its plugin")


def after_training(run, built, console):
    """The ensemble comparison and the t-SNE the recipe asks for, on the run's saved weights and its test data."""
    recipe = built.recipe
    if not (recipe.ensemble or recipe.tsne):
        return
    from ..build import model_from_run
    from ..ensemble import ensemble_report
    from .embedding import embedding_report
    from .loaded_run import LoadedRun

    loaded = LoadedRun(model_from_run(run.path), built.data)
    if recipe.ensemble:
        ensemble_report(loaded, recipe.ensemble, console)
    if recipe.tsne:
        embedding_report(loaded, recipe.tsne, 30.0, recipe.seed, console)
