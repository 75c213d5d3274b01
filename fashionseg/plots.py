"""Figures shared by every task: loss curves and learned filters."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def loss_curves(recorder):
    """Smoothed training loss per iteration and validation loss at each epoch's end."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(range(len(recorder.losses)), [float(v) for v in recorder.losses], label="train (smoothed)")
    valid = [v[1] for v in recorder.values if len(v) > 1]
    if valid:
        ax.plot(recorder.iters[: len(valid)], valid, "o-", label="valid")
    ax.set(xlabel="iteration", ylabel="loss", title="Training and validation loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def first_conv_filters(model: torch.nn.Module, max_filters: int = 64):
    """The first convolution's kernels, one small grey image per input-channel-averaged filter."""
    conv = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if conv is None:
        return None
    w = conv.weight.detach().float().cpu().mean(1)[:max_filters]
    n = w.shape[0]
    cols = min(8, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            k = w[i]
            ax.imshow(((k - k.min()) / (k.max() - k.min() + 1e-8)).numpy(), cmap="gray", interpolation="nearest")
    fig.suptitle(f"First conv layer: {n} learned {tuple(conv.kernel_size)} filters")
    return fig


def confusion_matrix(cm, classes):
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(classes), 1 + 0.6 * len(classes)))
    ax.imshow(cm, cmap="Blues")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test set)")
    return fig
