"""Figures for the analyses: class maps over an image, feature maps, embeddings."""
from __future__ import annotations

import math

import numpy as np
import torch

from ..plots import plt


def _frame(ax, color: str):
    for spine in ax.spines.values():
        spine.set(edgecolor=color, linewidth=3, visible=True)


def class_maps_figure(image: np.ndarray, maps: torch.Tensor, extent, classes: list[str], true: int,
                      probs: torch.Tensor, box=None, title: str = ""):
    """The input, then every class's map as a heatmap over it; true class framed green,
    a wrong prediction framed red. `extent` places the maps on the image (imshow's)."""
    pred = int(probs.argmax())
    H, W = image.shape
    cols = 6
    rows = math.ceil((len(classes) + 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2, rows * 2.3), squeeze=False)
    vmin, vmax = float(maps.min()), float(maps.max())
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
        ax.axis("off")
    axes[0, 0].axis("on")
    axes[0, 0].imshow(image, cmap="gray", extent=(0, W, H, 0))
    axes[0, 0].set_title("input", fontsize=8)
    if box is not None:
        top, left, bottom, right = (float(v) for v in box)
        axes[0, 0].add_patch(plt.Rectangle((left, top), right - left, bottom - top, fill=False, ec="yellow", ls="--"))
    heat = None
    for c, name in enumerate(classes):
        ax = axes.flat[c + 1]
        ax.axis("on")
        ax.imshow(image, cmap="gray", extent=(0, W, H, 0))
        heat = ax.imshow(maps[c].numpy(), cmap="jet", alpha=0.5, extent=extent, interpolation="bilinear",
                         vmin=vmin, vmax=vmax)
        ax.set(xlim=(0, W), ylim=(H, 0))
        marks = [m for m, on in (("true", c == true), ("predicted", c == pred)) if on]
        ax.set_title(f"{name} {float(probs[c]):.0%}" + (f"\n({', '.join(marks)})" if marks else ""), fontsize=8)
        if c == true or c == pred:
            _frame(ax, "green" if c == true else "red")
    fig.colorbar(heat, ax=axes.ravel().tolist(), shrink=0.6, label="class map value")
    fig.suptitle(title or f"true {classes[true]}, predicted {classes[pred]}", fontsize=10)
    return fig


def feature_maps_figure(image: np.ndarray, maps: torch.Tensor, layer: str, max_maps: int = 32):
    """The input and the first `max_maps` channels of a layer's output, each on its own scale."""
    n = min(len(maps), max_maps)
    cols = 8
    rows = math.ceil((n + 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(image, cmap="gray")
    axes[0, 0].set_title("input", fontsize=7)
    for i in range(n):
        ax = axes.flat[i + 1]
        ax.imshow(maps[i].numpy(), cmap="viridis", interpolation="nearest")
        ax.set_title(f"channel {i}", fontsize=6)
    fig.suptitle(f"Layer {layer!r}: {n} of {len(maps)} channels, {tuple(maps.shape[-2:])} maps", fontsize=9)
    return fig


def embedding_figure(coords: np.ndarray, labels: np.ndarray, classes: list[str], title: str):
    """A 2-D scatter of the embedded test images, one colour per class, with a legend."""
    fig, ax = plt.subplots(figsize=(8, 7))
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for c, name in enumerate(classes):
        chosen = labels == c
        ax.scatter(coords[chosen, 0], coords[chosen, 1], s=4, color=cmap(c % cmap.N), label=name)
    ax.legend(markerscale=4, fontsize=8, loc="best")
    ax.set(xticks=[], yticks=[], title=title)
    return fig
