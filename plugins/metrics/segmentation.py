"""Segmentation metrics over every test pixel: per-class average precision (in bounded memory: exact,
then from score histograms within 1e-4 of scikit-learn's), per-class IoU, mean IoU and pixel accuracy; Dice and pixel accuracy
each epoch."""
import torch
from fastai.metrics import DiceMulti as FastaiDiceMulti

from fashionseg.plugin import BinnedAP, ConfusionCounts, kept


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


class PerClassAP(BinnedAP):
    """AP of each class's softmax score over all test pixels, one-vs-rest, and their mean: exact for a few
    million scores, then from score histograms, so memory does not grow with the number of pixels."""

    def result(self, classes):
        aps = dict(zip(classes, self.ap()))
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
