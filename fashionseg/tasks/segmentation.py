"""Segmentation extras: panels of test images with predicted and true masks in class colours."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from ..data.colors import colorize, default_colors


class PanelPicker:
    """Keeps the first `k` test images with their predicted and true masks."""

    def __init__(self, k: int = 6):
        self.k, self.picked = k, []

    def update(self, xb, probs, yb):
        for i in range(min(len(yb), self.k - len(self.picked))):
            self.picked.append((xb[i].detach().cpu(), probs[i].argmax(0).cpu(), yb[i].cpu()))


def panels_figure(picker: PanelPicker, data):
    """Input | prediction | ground truth for each picked image, with a legend of class colours."""
    rows = len(picker.picked)
    colors = data.colors or default_colors(len(data.classes))
    fig, axes = plt.subplots(rows, 3, figsize=(7.5, 2.5 * rows + 0.6), squeeze=False)
    for row, (x, pred, true) in zip(axes, picker.picked):
        image = data.denormalize(x[None].float())[0].permute(1, 2, 0).squeeze(-1).numpy()
        shown = (image, colorize(pred, colors).numpy(), colorize(true, colors).numpy())
        for ax, picture, title in zip(row, shown, ("input", "prediction", "ground truth")):
            ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    legend = [Patch(facecolor=c, edgecolor="grey", label=name) for name, c in zip(data.classes, colors)]
    fig.legend(handles=legend, loc="lower center", ncol=len(legend), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.6 / (2.5 * rows + 0.6), 1, 1))
    return fig


def observers(data):
    return [PanelPicker()]


def figures(run, learn, data, results, observers) -> list[tuple[str, str]]:
    return [("Test predictions", run.save_figure(panels_figure(observers[0], data), "test_predictions"))]


def extras(results, classes) -> dict:
    return {}
