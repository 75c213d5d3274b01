"""Multi-label metrics (scikit-learn): per-epoch accuracy and macro F1 at 0.5, final mean average precision,
micro/macro F1 and per-label precision, recall, F1 and AP at the run's thresholds."""
import numpy as np
import torch
from fastai.metrics import F1ScoreMulti, accuracy_multi


class MultiLabelScores:
    """The whole test set's sigmoid probabilities, scored at the run's per-label thresholds (data.json)."""

    def __init__(self):
        self.probs, self.targets, self.thresholds = [], [], None

    def setup(self, summary: dict):
        self.thresholds = summary.get("thresholds")

    def update(self, probs, targets):
        self.probs.append(probs.detach().float().cpu())
        self.targets.append(targets.detach().cpu())

    def result(self, classes):
        probs, targets = torch.cat(self.probs).numpy(), torch.cat(self.targets).numpy().astype(int)
        return label_scores(probs, targets, decided(probs, self.thresholds), list(classes))


def decided(probs: np.ndarray, thresholds) -> np.ndarray:
    """0/1 decisions: each label's probability at or over its threshold (0.5 when the run gives none)."""
    limits = np.asarray(thresholds if isinstance(thresholds, list) else [0.5] * probs.shape[1])
    return (probs >= limits).astype(int)


def label_scores(probs: np.ndarray, targets: np.ndarray, decisions: np.ndarray, classes: list[str]) -> dict:
    """Micro/macro F1 and per-label precision, recall, F1 of the decisions; AP of the probabilities per label
    and its mean over the labels that have a positive item (the others' AP is NaN: there is nothing to rank)."""
    from sklearn.metrics import average_precision_score, f1_score, precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(targets, decisions, average=None, zero_division=0)
    ap = {name: float(average_precision_score(targets[:, j], probs[:, j])) if targets[:, j].any() else float("nan")
          for j, name in enumerate(classes)}
    present = [v for v in ap.values() if not np.isnan(v)]
    return {"mean_ap": float(np.mean(present)) if present else float("nan"),
            "f1_micro": float(f1_score(targets, decisions, average="micro", zero_division=0)),
            "f1_macro": float(f1_score(targets, decisions, average="macro", zero_division=0)),
            "f1": dict(zip(classes, map(float, f1))), "precision": dict(zip(classes, map(float, precision))),
            "recall": dict(zip(classes, map(float, recall))), "ap": ap}


def accuracy_multi_metric():
    return accuracy_multi


def f1_multi_metric():
    return F1ScoreMulti(average="macro")
