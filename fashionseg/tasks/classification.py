"""Classification extras: example images, confusion matrix, most frequent confusions."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .. import plots


class ExamplePicker:
    """Keeps the first `k` correctly and `k` wrongly classified test images of each class."""

    def __init__(self, n_classes: int, k: int = 2):
        self.k = k
        self.picked = {(c, ok): [] for c in range(n_classes) for ok in (True, False)}

    def update(self, xb, probs, yb):
        preds = probs.argmax(1)
        for i in range(len(yb)):
            slot = self.picked[(int(yb[i]), bool(preds[i] == yb[i]))]
            if len(slot) < self.k:
                slot.append((xb[i].detach().cpu(), int(preds[i]), float(probs[i].max())))


def examples_figure(picker: ExamplePicker, data):
    classes = data.classes
    k = picker.k
    fig, axes = plt.subplots(len(classes), 2 * k, figsize=(2 * k * 1.6, len(classes) * 1.9), squeeze=False,
                             layout="constrained")
    for c, name in enumerate(classes):
        for j, ok in enumerate((True, False)):
            for m in range(k):
                ax = axes[c, j * k + m]
                ax.axis("off")
                slot = picker.picked[(c, ok)]
                if m >= len(slot):
                    continue
                x, pred, conf = slot[m]
                img = data.denormalize(x[None].float())[0]
                ax.imshow(img.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray")
                ax.set_title(f"pred {classes[pred]}\ntrue {name}", fontsize=6, color="green" if ok else "red")
    fig.suptitle("Correct (left, green) and wrong (right, red) test predictions per class", fontsize=9)
    return fig


def observers(data):
    return [ExamplePicker(len(data.classes))]


def figures(run, learn, data, results, observers) -> list[tuple[str, str]]:
    figs = []
    if "confusion_matrix" in results:
        figs.append(("Confusion matrix", run.save_figure(plots.confusion_matrix(results["confusion_matrix"], data.classes), "confusion_matrix")))
    figs.append(("Correct and wrong examples", run.save_figure(examples_figure(observers[0], data), "examples")))
    return figs


def top_confusions(cm, classes, n=5) -> list[tuple[str, str, int]]:
    cm = torch.tensor(cm)
    off = cm.clone().fill_diagonal_(0)
    values, idx = off.flatten().topk(min(n, off.numel()))
    k = len(classes)
    return [(classes[int(i) // k], classes[int(i) % k], int(v)) for v, i in zip(values, idx) if v > 0]


def extras(results, classes) -> dict:
    """Task-specific facts for the console and report: the most frequent confusions."""
    if "confusion_matrix" not in results:
        return {}
    return {"confusions": top_confusions(results["confusion_matrix"], classes)}
