"""Plugin `classification`: one label per image. Figures: confusion matrix and right/wrong
examples per class; report: the most frequent confusions; predict: the top classes."""
from __future__ import annotations

from typing import NamedTuple

from fashionseg import Section, Task, hookimpl


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
    from fashionseg.plots import plt

    classes, k = data.classes, picker.k
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


def top_confusions(cm, classes, n=5) -> list[list]:
    import torch

    cm = torch.tensor(cm)
    off = cm.clone().fill_diagonal_(0)
    values, idx = off.flatten().topk(min(n, off.numel()))
    k = len(classes)
    return [[classes[int(i) // k], classes[int(i) % k], int(v)] for v, i in zip(values, idx) if v > 0]


class Classification(Task):
    name = "classification"
    description = "One class per image: logits (B, n_classes), cross-entropy, accuracy and confusions."
    loss_axis = -1
    commands = frozenset({"cam", "embed"})

    def observers(self, data):
        return [ExamplePicker(len(data.classes))]

    def figures(self, run, data, results, observers):
        from fashionseg import plots

        figs = []
        if "confusion_matrix" in results:
            cm = plots.confusion_matrix(results["confusion_matrix"], data.classes)
            figs.append(("Confusion matrix", run.save_figure(cm, "confusion_matrix")))
        figs.append(("Correct and wrong examples", run.save_figure(examples_figure(observers[0], data), "examples")))
        return figs

    def sections(self, results, data):
        if "confusion_matrix" not in results:
            return []
        rows = top_confusions(results["confusion_matrix"], data.classes)
        return [Section("Most frequent confusions", ["true", "predicted as", "count"], rows)] if rows else []

    def predict(self, model, x, summary):
        return self.predict_batch(model, x, summary, [tuple(x.shape[-2:])])[0]

    def predict_batch(self, model, x, summary, sizes):
        probs = model(x).float().softmax(1).cpu()
        return [Classified(summary["classes"][int(p.argmax())], int(p.argmax()), p) for p in probs]

    def describe(self, prediction, summary, k: int = 5):
        rows = [[name, f"{p:.1%}"] for name, p in top(prediction, summary, k)]
        return Section("top classes", ["class", "probability"], rows)

    def csv_row(self, prediction, summary, top_k=3):
        row = {}
        for i, (name, p) in enumerate(top(prediction, summary, top_k), 1):
            row[f"label_{i}"], row[f"prob_{i}"] = name, round(p, 6)
        return row


class Classified(NamedTuple):
    """One image's prediction, in the order of fastai's `learn.predict`: label, class index, probabilities."""

    label: str
    index: int
    probs: "torch.Tensor"


def top(prediction: Classified, summary, k: int) -> list[tuple[str, float]]:
    """The `k` most probable classes with their probabilities, most probable first."""
    probs, order = prediction.probs.sort(descending=True)
    return [(summary["classes"][int(c)], float(p)) for p, c in zip(probs[:k], order[:k])]


@hookimpl
def fashionseg_tasks():
    return [Classification()]
