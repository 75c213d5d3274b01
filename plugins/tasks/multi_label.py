"""Plugin `multi-label`: any number of labels per image. One sigmoid per label (BCE, or ASL), decided at a
threshold per label (given, or tuned on the validation set after training); figures: the highest-loss wrong
and lowest-loss right test images; predict: each label's probability and the labels at or over their thresholds."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from fashionseg.plugin import Section, Task, TopItems, hookimpl

if TYPE_CHECKING:
    import torch


@dataclass
class Tagged:
    """One test image as the figure shows it: its true and predicted label sets and its mean BCE loss."""

    index: int
    x: object
    true: list[str]
    pred: list[str]
    loss: float


class TagExamples:
    """The `k` wrong test images (predicted label set differs from the true one) with the highest loss and
    the `k` right ones with the lowest; items are numbered in test-set order."""

    def __init__(self, classes: list[str], thresholds, item_losses, k: int = 8):
        self.classes, self.limits, self.item_losses = classes, as_limits(thresholds, len(classes)), item_losses
        self.wrong, self.right, self.seen = TopItems(k), TopItems(k), 0

    def update(self, xb, probs, yb):
        losses = self.item_losses(probs, yb)
        decided = (probs >= self.limits.to(probs.device)).cpu()
        for i in range(len(yb)):
            true, pred = self.names(yb[i].cpu() > 0.5), self.names(decided[i])
            def make(i=i, true=true, pred=pred):
                return Tagged(self.seen + i, xb[i].detach().cpu(), true, pred, float(losses[i]))
            if true == pred:
                self.right.add(-float(losses[i]), make)
            else:
                self.wrong.add(float(losses[i]), make)
        self.seen += len(yb)

    def names(self, flags) -> list[str]:
        return [c for c, on in zip(self.classes, flags.tolist()) if on]

    def sections(self, data) -> list[Section]:
        """The figure's images as report tables."""
        def row(ex):
            return [ex.index, " ".join(ex.true) or "-", " ".join(ex.pred) or "-", round(ex.loss, 4)]

        header = ["test item", "true labels", "predicted labels", "loss"]
        return [Section(title, header, [row(ex) for ex in items]) for title, items in
                (("Highest-loss wrong test predictions", self.wrong.items()),
                 ("Lowest-loss right test predictions", self.right.items())) if items]


def as_limits(thresholds, n: int):
    """The thresholds as a tensor, one per label; 0.5 each when there are none (yet)."""
    import torch

    return torch.tensor(thresholds if isinstance(thresholds, list) else [0.5] * n, dtype=torch.float32)


def tuned_thresholds(probs, targets) -> list[float]:
    """Per label, the threshold that maximises F1 on (probs, targets) (scikit-learn's precision-recall curve);
    0.5 for a label without a positive item."""
    import numpy as np
    from sklearn.metrics import precision_recall_curve

    limits = []
    for j in range(probs.shape[1]):
        if not targets[:, j].any():
            limits.append(0.5)
            continue
        precision, recall, cuts = precision_recall_curve(targets[:, j], probs[:, j])
        f1 = 2 * precision[:-1] * recall[:-1] / np.clip(precision[:-1] + recall[:-1], 1e-12, None)
        limits.append(float(cuts[int(np.argmax(f1))]))  # a label applies at or over its threshold
    return limits


class MultiLabel(Task):
    name = "multi-label"
    description = ("Any number of labels per image: one sigmoid per label, BCE (or ASL), thresholds; mean AP, "
                   "micro/macro F1 and per-label precision, recall and AP.")
    loss_axis = -1
    default_loss = "bce"
    architectures_from = "classification"  # a classifier's logits (B, n_classes) are one score per label
    report_sections = frozenset({"per-class"})
    exported_facts = ("thresholds",)  # model.json's output carries them: the exported model alone decides

    def probabilities(self, output):
        return output.float().sigmoid()

    def targets(self, yb):
        import torch

        return yb.as_subclass(torch.Tensor).float()

    def average(self, outputs):
        """The logit of the mean sigmoid, which `probabilities` turns back into that mean."""
        import torch

        return torch.logit(torch.stack([self.probabilities(o) for o in outputs]).mean(0), eps=1e-6)

    def item_losses(self, probs, targets):
        """Each image's binary cross-entropy, averaged over its labels."""
        import torch.nn.functional as F

        return F.binary_cross_entropy(probs.clamp(1e-6, 1 - 1e-6), targets.float(), reduction="none").mean(1)

    def after_fit(self, learn, data):
        """Thresholds asked to be tuned ("tune") are chosen per label on the validation set."""
        if data.extra.get("thresholds") != "tune":
            return {}
        import torch

        probs, targets = [], []
        learn.model.eval()
        with torch.no_grad():
            for xb, yb in data.dls.valid:
                probs.append(self.probabilities(learn.model(xb)).cpu())
                targets.append(self.targets(yb).cpu())
        where = "the validation set, which is also the test set" if data.test_is_valid else "the validation set"
        return {"thresholds": tuned_thresholds(torch.cat(probs).numpy(), torch.cat(targets).numpy()),
                "thresholds_tuned_on": where}

    def observers(self, data):
        return [TagExamples(data.classes, data.extra.get("thresholds"), self.item_losses)]

    def figures(self, run, data, results, observers):
        from fashionseg.plugin import examples_figure

        picker = observers[0]

        def show(ex):
            return ex.x, (f"#{ex.index} pred {' '.join(ex.pred) or '-'}\ntrue {' '.join(ex.true) or '-'}\n"
                          f"loss {ex.loss:.2f}"), ex.true == ex.pred

        fig = examples_figure([(picker.wrong.items(), show), (picker.right.items(), show)], data.denormalize,
                              "Test predictions: highest-loss wrong label sets (top, red) and lowest-loss right "
                              "ones (bottom, green)")
        return [("Highest-loss wrong and lowest-loss right test predictions", run.save_figure(fig, "top_losses"))]

    def sections(self, results, data):
        limits = data.extra.get("thresholds")
        if not isinstance(limits, list):
            return []
        how = f"tuned on {data.extra['thresholds_tuned_on']}" if "thresholds_tuned_on" in data.extra else "given"
        return [Section(f"Decision thresholds ({how})", ["label", "threshold"],
                        [[c, round(t, 4)] for c, t in zip(data.classes, limits)])]

    def predict_batch(self, model, x, summary, sizes):
        probs = self.probabilities(model(x)).cpu()
        limits = as_limits(summary.get("thresholds"), probs.shape[1])
        return [Labels([c for c, on in zip(summary["classes"], (p >= limits).tolist()) if on], p, limits)
                for p in probs]

    def predict(self, model, x, summary):
        return self.predict_batch(model, x, summary, [tuple(x.shape[-2:])])[0]

    def describe(self, prediction, summary):
        order = prediction.probs.argsort(descending=True).tolist()
        rows = [[summary["classes"][j], float(prediction.probs[j]), float(prediction.thresholds[j]),
                 "yes" if summary["classes"][j] in prediction.labels else "no"] for j in order]
        return Section("labels", ["label", "probability", "threshold", "applies"], rows)

    def csv_row(self, prediction, summary, top_k=3):
        """`labels`: the labels at or over their thresholds (space-separated), then each label's probability."""
        return {"labels": " ".join(prediction.labels),
                **{f"p_{c}": float(p) for c, p in zip(summary["classes"], prediction.probs)}}

    def output(self, n_classes):
        return {"name": "logits", "shape": ["batch", n_classes],
                "meaning": "logits; sigmoid gives each label's probability; a label applies when its probability "
                           "is at or over its threshold (thresholds, one per class)"}


class Labels(NamedTuple):
    """One image's prediction: the labels that apply, every label's probability, and the thresholds used."""

    labels: list[str]
    probs: torch.Tensor
    thresholds: torch.Tensor


@hookimpl
def fashionseg_tasks():
    return [MultiLabel()]
