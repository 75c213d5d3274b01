"""One streaming pass over a DataLoader: loss, fastai epoch metrics and final evaluators."""
from __future__ import annotations

from contextlib import nullcontext

import torch
from fastai.torch_core import find_bs, to_detach

from fashionseg.build.scoring import Scoring
from fashionseg.errors import FashionsegError
from fashionseg.infer.tta import test_time_forward
from fashionseg.recipe.schema import Recipe
from fashionseg.models.resize import at_own_size
from fashionseg.registry.task import Task


def kept(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Which targets are class indices: a mask's ignore value (any value past the classes) is left out."""
    return targets < probs.shape[1]


class ConfusionCounts:
    """Counts (true class, predicted class) pairs over items or pixels, ignored pixels left out; `confusion[t, p]`."""

    def __init__(self):
        self.confusion = None

    def update(self, probs: torch.Tensor, targets: torch.Tensor):
        n = probs.shape[1]
        if self.confusion is None:
            self.confusion = torch.zeros(n, n, dtype=torch.long)
        pairs = targets.long().cpu() * n + probs.argmax(1).cpu()
        pairs = pairs[kept(probs, targets).cpu()]
        self.confusion += torch.bincount(pairs, minlength=n * n).view(n, n)


@torch.no_grad()
def predict_batches(model: torch.nn.Module, dl, forward=None):
    """Yield `(inputs, logits, targets)` batch by batch, model in eval mode; `forward(model, x)`
    (e.g. `inference.test_time_forward`'s) replaces the plain `model(x)`."""
    model.eval()
    for xb, yb in dl:
        yield xb, (forward(model, xb) if forward else model(xb)).float(), yb


class _BatchView:
    """The `Learner` attributes fastai metrics read when they accumulate a batch (`AvgMetric` reads
    `pred` and `yb`, `AccumMetric` such as `skm_to_fastai(...)`, `F1Score`, `RocAuc` reads `y`)."""

    def __init__(self, pred, yb):
        self.pred, self.yb, self.y, self.training = pred, (yb,), yb, False

    @staticmethod
    def to_detach(b, cpu=True, gather=True):
        """Never gathered across ranks: this pass sees the whole data set on one process."""
        return to_detach(b, cpu, gather=False)


def evaluate(model, dl, evaluators: dict, classes: list[str], loss_func=None, epoch_metrics=(),
             observers=(), task=None, forward=None) -> dict:
    """Each evaluator's result on `dl`, plus the loss and fastai metrics when given, one batch at a time.

    The task (when given) turns model output into the probabilities and targets evaluators see;
    observers (a task's figure helpers) see `(inputs, probs, targets)` too; `forward` as in `predict_batches`.
    """
    task = task or Task()
    for m in epoch_metrics:
        m.reset()
    total_loss, count = 0.0, 0
    for xb, logits, yb in predict_batches(model, dl, forward):
        if loss_func is not None:
            bs = find_bs((yb,))
            total_loss += float(loss_func(logits, yb)) * bs
            count += bs
        for m in epoch_metrics:
            m.accumulate(_BatchView(logits, yb))
        probs, targets = task.probabilities(logits), task.targets(yb)
        for ev in evaluators.values():
            ev.update(probs, targets)
        for ob in observers:
            ob.update(xb, probs, targets)
    results = {"test_loss": total_loss / count} if count else {}
    results.update({m.name: float(m.value) for m in epoch_metrics})
    for name, ev in evaluators.items():
        out = ev.result(classes)
        if not isinstance(out, dict):
            raise FashionsegError(f"final metric {name!r} returned {type(out).__name__} from result(); it must return "
                                  "a dict of floats and {class: float} dicts")
        results.update(out)
    return results


def evaluate_as_trained(model, dl, scorers: Scoring, classes: list[str], task: Task, recipe: Recipe,
                        observers=()) -> dict:
    """`evaluate` as the run's own test evaluation does it: its loss, metrics and evaluators, predicted with
    its recipe's flip TTA and sliding window, and at the input size it saw then; training and every later
    evaluation of a run go through here."""
    forward = test_time_forward(recipe.tta, recipe.tile, recipe.overlap)
    with nullcontext() if recipe.sizes else at_own_size(model):
        return evaluate(model, dl, scorers.evaluators, classes, scorers.loss_func, scorers.metrics, observers, task,
                        forward)
