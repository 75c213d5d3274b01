"""How a run is scored, built in one place for training and for every later evaluation of its folder:
the loss it trained with (label smoothing, class weights, ignored pixels), its fastai epoch metrics
and fresh final evaluators. A test loss that left one of these out would disagree with the report."""
from __future__ import annotations

from dataclasses import dataclass

from fastai.learner import mk_metric

from fashionseg.build.checks import Parts, epoch_metrics, final_evaluators
from fashionseg.models.losses import make_loss
from fashionseg.recipe.schema import Recipe


@dataclass
class Scoring:
    """The loss function, fastai epoch metrics (as `Metric`s, the way a Learner holds them) and final
    evaluators (by name) of one recipe."""

    loss_func: object
    metrics: list
    evaluators: dict


def scoring(recipe: Recipe, parts: Parts, ignore_index: int | None = None, on=None, classes=None,
            class_weights=None, summary: dict | None = None) -> Scoring:
    """Fresh scorers for `recipe`; `ignore_index` is the masks' ignore value, `classes` and `class_weights` (from
    data.balance=weights) name and weight the loss's classes, `summary` is data.json for final metrics' set-up."""
    return Scoring(make_loss(recipe, parts.task, on, ignore_index, classes, class_weights),
                   [mk_metric(m) for m in epoch_metrics(parts)], final_evaluators(recipe, parts, summary))
