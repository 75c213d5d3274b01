"""Stream a model's softmax scores over a DataLoader into evaluators, one batch at a time."""
from __future__ import annotations

import torch
import torch.nn.functional as F


class ConfusionCounts:
    """Counts (true class, predicted class) pairs over items or pixels; `confusion[t, p]`."""

    def __init__(self):
        self.confusion = None

    def update(self, probs: torch.Tensor, targets: torch.Tensor):
        n = probs.shape[1]
        if self.confusion is None:
            self.confusion = torch.zeros(n, n, dtype=torch.long)
        pairs = targets.reshape(-1).long().cpu() * n + probs.argmax(1).reshape(-1).cpu()
        self.confusion += torch.bincount(pairs, minlength=n * n).view(n, n)


@torch.no_grad()
def predict_batches(model: torch.nn.Module, dl):
    """Yield `(inputs, probs, targets, loss_sum)` batch by batch, model in eval mode."""
    model.eval()
    for xb, yb in dl:
        logits = model(xb).float()
        loss = F.cross_entropy(logits, yb.as_subclass(torch.Tensor).long(), reduction="sum")
        yield xb, logits.softmax(1), yb.as_subclass(torch.Tensor), float(loss)


def evaluate(model, dl, evaluators: dict, classes: list[str], observers=()) -> dict:
    """Final metrics on `dl`: test loss plus each evaluator's result.

    Observers (figures' example pickers) see `(inputs, probs, targets)` too.
    """
    total_loss, n_targets = 0.0, 0
    for xb, probs, yb, loss in predict_batches(model, dl):
        total_loss += loss
        n_targets += yb.numel()
        for ev in evaluators.values():
            ev.update(probs, yb)
        for ob in observers:
            ob.update(xb, probs, yb)
    results = {"test_loss": total_loss / max(n_targets, 1)}
    for ev in evaluators.values():
        results.update(ev.result(classes))
    return results
