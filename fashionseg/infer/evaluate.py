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


class BinnedAP:
    """Each class's average precision (one-vs-rest, over items or pixels, ignored pixels left out) in bounded memory.

    Up to `exact_below` scores are kept and scored exactly (scikit-learn's AP); past that, histograms of the
    scores take over: `2 x classes x bins` counts whatever the number of pixels. Bins are even in log-odds
    from `low` to `high` (a float32 probability is never nearer 1 than log-odds 17), fine near 0 and 1 where
    softmax scores crowd; scores in one bin count as tied, as scikit-learn treats equal scores, which puts
    the AP within about 1e-5 of the exact one for a trained model's spread of scores.
    """

    EXACT_BELOW = 2 ** 22  # scores kept and scored exactly, unless an instance is given its own `exact_below`

    def __init__(self, bins: int = 2 ** 17, low: float = -32.0, high: float = 17.0, exact_below: int | None = None):
        self.bins, self.low, self.high = bins, low, high
        self.exact_below = self.EXACT_BELOW if exact_below is None else exact_below
        self.scores, self.truth, self.total, self.positive = [], [], None, None

    def update(self, probs: torch.Tensor, targets: torch.Tensor):
        keep = kept(probs, targets)
        scores, truth = probs.movedim(1, -1)[keep].float(), targets[keep].long()
        if self.total is None and sum(map(torch.Tensor.numel, [*self.scores, scores])) <= self.exact_below:
            self.scores.append(scores.cpu())
            self.truth.append(truth.cpu())
            return
        for kept_scores, kept_truth in [*zip(self.scores, self.truth), (scores, truth)]:
            self.count(kept_scores, kept_truth)
        self.scores, self.truth = [], []

    def count(self, scores: torch.Tensor, truth: torch.Tensor):
        """Add `(N, n_classes)` scores with their classes to the histograms."""
        n = scores.shape[1]
        if self.total is None:
            self.total = torch.zeros(n * self.bins, dtype=torch.long)
            self.positive = torch.zeros(n * self.bins, dtype=torch.long)
        bins = self.bin_of(scores) + torch.arange(n, device=scores.device) * self.bins
        self.total += torch.bincount(bins.flatten(), minlength=n * self.bins).cpu()
        self.positive += torch.bincount(bins.gather(1, truth[:, None])[:, 0], minlength=n * self.bins).cpu()

    def bin_of(self, probs: torch.Tensor) -> torch.Tensor:
        """Bin indices of probabilities (higher bin, higher score); log-odds past `low`/`high` share the end bins."""
        odds = torch.logit(probs.float()).nan_to_num_(0.0).clamp_(self.low, self.high)
        return odds.sub_(self.low).mul_((self.bins - 1) / (self.high - self.low)).round_().long()

    def ap(self) -> list[float]:
        """Per class; 0.0 for a class absent from the targets (as scikit-learn, with a warning)."""
        if self.total is None:
            return self.exact_ap()
        aps = []
        for total, positive in zip(self.total.view(-1, self.bins), self.positive.view(-1, self.bins)):
            tp, seen = positive.flip(0).cumsum(0).double(), total.flip(0).cumsum(0).double()
            gain = positive.flip(0).double()  # precision at each bin's threshold, weighted by the recall it adds
            n_pos = float(gain.sum())
            aps.append(float((gain * tp / seen.clamp(min=1)).sum()) / n_pos if n_pos else 0.0)
        return aps

    def exact_ap(self) -> list[float]:
        from sklearn.metrics import average_precision_score

        if not self.scores:
            return []
        scores, truth = torch.cat(self.scores).numpy(), torch.cat(self.truth).numpy()
        return [float(average_precision_score(truth == c, scores[:, c])) if (truth == c).any() else 0.0
                for c in range(scores.shape[1])]


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
             observers=(), task=None, forward=None, batches=None) -> dict:
    """Each evaluator's result on `dl`, plus the loss and fastai metrics when given, one batch at a time.

    The task (when given) turns model output into the probabilities and targets evaluators see;
    observers (a task's figure helpers and scores) see `(inputs, probs, targets)` too, and one with
    `result(classes)` adds its metrics; `forward` as in `predict_batches`. `batches`: the `(inputs, logits,
    targets)` of `dl` as `model` predicted them already (a run's last validation pass over its test set, see
    `callbacks.replay`), scored instead of predicting again.
    """
    task = task or Task()
    for m in epoch_metrics:
        m.reset()
    total_loss, count = 0.0, 0
    if batches is not None:
        model.eval()  # as after predicting: later analyses find the model as a pass over `dl` leaves it
    for xb, logits, yb in batches if batches is not None else predict_batches(model, dl, forward):
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
    for ob in observers:  # the task's own scores: a metric the recipe chose keeps its value
        for key, value in (ob.result(classes) if hasattr(ob, "result") else {}).items():
            results.setdefault(key, value)
    return results


def evaluate_as_trained(model, dl, scorers: Scoring, classes: list[str], task: Task, recipe: Recipe,
                        observers=(), batches=None) -> dict:
    """`evaluate` as the run's own test evaluation does it: its loss, metrics and evaluators, predicted with
    its recipe's flip TTA and sliding window, and at the input size it saw then; training and every later
    evaluation of a run go through here. `batches`: `dl`'s predictions already made so (see `evaluate`)."""
    forward = test_time_forward(recipe.tta, recipe.tile, recipe.overlap, task.average)
    with nullcontext() if recipe.sizes else at_own_size(model):
        return evaluate(model, dl, scorers.evaluators, classes, scorers.loss_func, scorers.metrics, observers, task,
                        forward, batches)
