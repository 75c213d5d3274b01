"""Stream a model's softmax scores over a DataLoader into evaluators, one batch at a time."""
from __future__ import annotations

import torch


@torch.no_grad()
def predict_batches(model: torch.nn.Module, dl):
    """Yield `(inputs, probs, targets)` batch by batch, model in eval mode."""
    model.eval()
    for xb, yb in dl:
        yield xb, model(xb).float().softmax(1), yb.as_subclass(torch.Tensor)


def evaluate(model, dl, evaluators: dict, classes: list[str], observers=()) -> dict:
    """Each evaluator's result on `dl`; observers (figures' example pickers) see the inputs too."""
    for xb, probs, yb in predict_batches(model, dl):
        for ev in evaluators.values():
            ev.update(probs, yb)
        for ob in observers:
            ob.update(xb, probs, yb)
    results = {}
    for ev in evaluators.values():
        results.update(ev.result(classes))
    return results
