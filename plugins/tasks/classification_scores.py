"""What every classification evaluation reports, computed with scikit-learn: per-class precision, recall, F1
and support, macro and weighted averages, balanced and top-k accuracy, one-vs-rest ROC-AUC and average
precision, expected calibration error; and the figures (PR curves, reliability diagram) drawn from them."""
from __future__ import annotations

import math
import warnings

import numpy as np

CALIBRATION_BINS = 15


class ClassScores:
    """Keeps each item's probabilities `(N, n_classes)` (small: one row per item) and its true class."""

    def __init__(self):
        self.probs, self.targets = [], []

    def update(self, xb, probs, targets):
        self.probs.append(probs.float().cpu().numpy())
        self.targets.append(targets.long().cpu().numpy())

    @property
    def seen(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.probs), np.concatenate(self.targets)

    def result(self, classes) -> dict:
        from sklearn import metrics

        probs, y = self.seen
        pred, labels = probs.argmax(1), list(range(len(classes)))
        precision, recall, f1, support = metrics.precision_recall_fscore_support(y, pred, labels=labels,
                                                                                 zero_division=np.nan)
        out = {name: dict(zip(classes, map(float, values)))  # NaN: a class never predicted, or without items
               for name, values in (("precision", precision), ("recall", recall), ("f1", f1))}
        present = sorted(set(y.tolist()))  # averages over the classes the data holds (it may hold a subset)
        for average in ("macro", "weighted"):
            p, r, f, _ = metrics.precision_recall_fscore_support(y, pred, labels=present, average=average,
                                                                 zero_division=0)
            out.update({f"{average}_precision": float(p), f"{average}_recall": float(r), f"{average}_f1": float(f)})
        with warnings.catch_warnings():  # a subset of the classes is fine: predictions of others count as wrong
            warnings.simplefilter("ignore", UserWarning)
            out["balanced_accuracy"] = float(metrics.balanced_accuracy_score(y, pred))
        for k in (3, 5):
            if k < len(classes):
                out[f"top_{k}_accuracy"] = float(metrics.top_k_accuracy_score(y, probs, k=k, labels=labels))
        out["roc_auc"], out["average_precision"] = one_vs_rest(probs, y, classes)
        out["macro_roc_auc"] = nanmean(out["roc_auc"].values())
        out["mean_average_precision"] = nanmean(out["average_precision"].values())
        out["ece"] = calibration(probs, y)[0]
        out["support"] = dict(zip(classes, map(int, support)))
        out["confusion_matrix"] = metrics.confusion_matrix(y, pred, labels=labels).tolist()
        return out


def one_vs_rest(probs, y, classes) -> tuple[dict, dict]:
    """ROC-AUC and average precision of each class's score against the rest; NaN for a class with no items
    (or, for ROC-AUC, only items of that class): no ranking to score."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    auc, ap = {}, {}
    for c, name in enumerate(classes):
        positive = y == c
        ranked = 0 < positive.sum() < len(y)
        auc[name] = float(roc_auc_score(positive, probs[:, c])) if ranked else math.nan
        ap[name] = float(average_precision_score(positive, probs[:, c])) if positive.any() else math.nan
    return auc, ap


def nanmean(values) -> float:
    kept = [v for v in values if v == v]
    return sum(kept) / len(kept) if kept else math.nan


def calibration(probs, y, bins: int = CALIBRATION_BINS):
    """Expected calibration error of the top class's probability (`bins` even bins), and per bin
    (mean confidence, accuracy, items) for the reliability diagram."""
    confidence, right = probs.max(1), probs.argmax(1) == y
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    rows = [(float(confidence[which == b].mean()), float(right[which == b].mean()), int((which == b).sum()))
            for b in range(bins) if (which == b).any()]
    ece = sum(n * abs(acc - conf) for conf, acc, n in rows) / len(y)
    return float(ece), rows


def pr_curves(scores: ClassScores, classes):
    """One precision-recall curve per class (one-vs-rest), AP in the legend."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    from fashionseg.plugin import plt

    probs, y = scores.seen
    fig, ax = plt.subplots(figsize=(6, 5))
    for c, name in enumerate(classes):
        if (y == c).any():
            precision, recall, _ = precision_recall_curve(y == c, probs[:, c])
            ax.plot(recall, precision, label=f"{name} (AP {average_precision_score(y == c, probs[:, c]):.3f})")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title="Precision-recall per class (one vs rest)")
    ax.legend(fontsize=7, loc="lower left")
    return fig


def reliability_diagram(scores: ClassScores):
    """Accuracy against the top class's confidence per bin, the diagonal being perfect calibration."""
    from fashionseg.plugin import plt

    probs, y = scores.seen
    ece, rows = calibration(probs, y)
    fig, ax = plt.subplots(figsize=(5, 5))
    width = 1 / CALIBRATION_BINS
    ax.bar([conf for conf, _, _ in rows], [acc for _, acc, _ in rows], width=width * 0.9, edgecolor="black",
           alpha=0.7, label="accuracy per confidence bin")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    for conf, acc, n in rows:
        ax.text(conf, acc + 0.01, str(n), ha="center", fontsize=6)
    ax.set(xlabel="confidence (top class probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.05),
           title=f"Reliability diagram (ECE {ece:.4f}; items per bin above bars)")
    ax.legend(fontsize=7, loc="upper left")
    return fig
