"""Analyses a recipe asks for after training (`ensemble`, `tsne`), written into the run's own report
as `fashionseg evaluate --ensemble K` and `fashionseg embed` would add them later."""
from __future__ import annotations


def after_training(run, built, console):
    """The ensemble comparison and the t-SNE the recipe asks for, on the run's saved weights and its test data."""
    recipe = built.recipe
    if not (recipe.ensemble or recipe.tsne):
        return
    from fashionseg.analysis.embedding import embedding_report
    from fashionseg.analysis.ensemble import ensemble_report
    from fashionseg.infer.trained import load_run

    loaded = load_run(run.path)
    loaded.data = built.data  # the data the run just trained on, not read again
    if recipe.ensemble:
        ensemble_report(loaded, recipe.ensemble, console)
    if recipe.tsne:
        embedding_report(loaded, recipe.tsne, 30.0, recipe.seed, console)
