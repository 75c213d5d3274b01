"""Segmentation metrics over every test pixel: per-class average precision (exactly as
scikit-learn computes it), per-class IoU, mean IoU and pixel accuracy; Dice and pixel
accuracy each epoch."""
import torch
from fastai.metrics import DiceMulti as FastaiDiceMulti

from fashionseg.plugin import ConfusionCounts, kept


def pixel_accuracy(inp, targ):
    """Share of the kept pixels (the mask's ignore value left out) whose top class is right."""
    keep = kept(inp, targ)
    return (inp.argmax(1) == targ)[keep].float().mean()


class DiceMulti(FastaiDiceMulti):
    """fastai's Dice averaged over classes, with the pixels of the mask's ignore value left out."""

    def accumulate(self, learn):
        scores, targ = learn.pred.as_subclass(torch.Tensor), learn.y.as_subclass(torch.Tensor)
        keep = kept(scores, targ)
        pred, targ = scores.argmax(1)[keep], targ[keep]
        for c in range(learn.pred.shape[1]):
            p, t = pred == c, targ == c
            self.inter[c] = self.inter.get(c, 0) + (p & t).sum().item()
            self.union[c] = self.union.get(c, 0) + p.sum().item() + t.sum().item()


def average_precision(scores: torch.Tensor, positives: torch.Tensor) -> float:
    """scikit-learn's `average_precision_score` for one class: precision at each distinct score
    threshold, weighted by the recall it adds."""
    n_pos = int(positives.sum())
    if n_pos == 0:
        return 0.0  # what scikit-learn returns, with a warning, for a class absent from the targets
    ranked, order = torch.sort(scores, descending=True, stable=True)
    tp = positives[order].cumsum(0, dtype=torch.float64)
    del order
    last_of_tie = torch.ones_like(ranked, dtype=torch.bool)
    last_of_tie[:-1] = ranked[1:] != ranked[:-1]
    tp = tp[last_of_tie]
    seen = (last_of_tie.nonzero().squeeze(1) + 1).to(torch.float64)
    recall = tp / n_pos
    gain = torch.diff(recall, prepend=recall.new_zeros(1))
    return float((gain * tp / seen).sum())


class PerClassAP:
    """AP of each class's softmax score over all test pixels, one-vs-rest, and their mean.

    Scores are kept once, as float32 columns per class; `result` sorts one class at a time.
    """

    def __init__(self):
        self.scores, self.targets = None, []

    def update(self, probs: torch.Tensor, targets: torch.Tensor):
        if self.scores is None:
            self.scores = [[] for _ in range(probs.shape[1])]
        keep = kept(probs, targets)
        for c, column in enumerate(self.scores):
            column.append(probs[:, c][keep].float().cpu())
        self.targets.append(targets[keep].to(torch.uint8).cpu())

    def result(self, classes):
        targets = torch.cat(self.targets)
        aps = {}
        for c, name in enumerate(classes):
            scores = torch.cat(self.scores[c])
            self.scores[c] = None
            aps[name] = average_precision(scores, targets == c)
        return {"mean_ap": sum(aps.values()) / len(aps), "ap": aps}


class PerClassIoU(ConfusionCounts):
    """Intersection over union of each class, their mean, and pixel accuracy, from pixel counts."""

    def result(self, classes):
        cm = self.confusion.double()
        union = cm.sum(0) + cm.sum(1) - cm.diag()
        iou = (cm.diag() / union).tolist()  # NaN for a class neither predicted nor present
        return {
            "mean_iou": float(torch.tensor(iou).nanmean()),
            "pixel_accuracy": float(cm.diag().sum() / cm.sum()),
            "iou": dict(zip(classes, iou)),
        }



def pixel_accuracy_metric():
    return pixel_accuracy
