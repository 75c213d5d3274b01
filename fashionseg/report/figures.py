"""Every figure fashionseg draws: loss and training curves, learned filters, confusion matrices, class
maps, feature maps and embeddings."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from fashionseg.models.layers import first_conv  # noqa: E402

# Figures drawn from metrics or weights alone, never from a data item: a model folder carries them always
# (a task names its own in `Task.data_free_figures`).
DATA_FREE_FIGURES = frozenset({"loss_curves", "training_curves", "first_conv_filters", "lr_find"})


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
    """The first convolution's kernels, one small grey image per input-channel-averaged filter, each scaled to
    its own range; drawn as one mosaic image (one axes: a fifth to a ninth of the time of an axes per filter)."""
    found = first_conv(model)
    if found is None:
        return None
    conv = found[1]
    w = conv.weight.detach().float().cpu().mean(1)[:max_filters]
    n, (kh, kw) = w.shape[0], w.shape[1:]
    cols = min(8, n)
    rows = math.ceil(n / cols)
    low, high = w.amin((1, 2), keepdim=True), w.amax((1, 2), keepdim=True)
    scaled = ((w - low) / (high - low + 1e-8)).numpy()
    gap = max(1, round(max(kh, kw) / 4))  # blank between filters, shown white
    mosaic = np.full((rows * (kh + gap) - gap, cols * (kw + gap) - gap), np.nan)
    for i, k in enumerate(scaled):
        r, c = divmod(i, cols)
        mosaic[r * (kh + gap):r * (kh + gap) + kh, c * (kw + gap):c * (kw + gap) + kw] = k
    fig, ax = plt.subplots(figsize=(cols * 1.1, rows * 1.1))
    grey = plt.get_cmap("gray").with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(mosaic), cmap=grey, vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    kind = "learned" if conv.weight.requires_grad else "fixed"  # fixed: e.g. whitening filters (`whiten`)
    fig.suptitle(f"First conv layer: {n} {kind} {tuple(conv.kernel_size)} filters")
    return fig


def confusion_matrix(cm, classes, title: str = "Confusion matrix (test set)"):
    """Colours: each true class's row normalised (the share of its items predicted as each class, so a rare
    class reads as clearly as a common one); cells: the counts."""
    cm = np.asarray(cm)
    shares = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * len(classes), 1 + 0.7 * len(classes)))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, count_text(int(cm[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return fig


def count_text(n: int) -> str:
    """A count short enough for a cell: 950, 12.3k, 4.1M."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def training_curves(iterations: list[dict], epochs: list[dict]):
    """Loss (left) and metrics (right) against epochs: lines every N iterations, dots per epoch."""
    from fashionseg.report.figures import plt

    metrics = [k for k in (epochs[0] if epochs else {}) if f"train_{k}" in iterations[0]]
    fig, axes = plt.subplots(1, 2 if metrics else 1, figsize=(12 if metrics else 7, 4), squeeze=False)
    loss_ax = axes[0, 0]
    loss_ax.plot([r["epoch"] for r in iterations], [r["train_loss"] for r in iterations], label="train, every N iterations")
    ends = [r["epoch"] + 1 for r in epochs]
    for name in ("train_loss", "valid_loss"):
        loss_ax.plot(ends, [r[name] for r in epochs], "o", label=f"{name.split('_')[0]}, per epoch")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    for name in metrics:
        ax = axes[0, 1]
        line = ax.plot([r["epoch"] for r in iterations], [r.get(f"train_{name}") for r in iterations],
                       label=f"train {name}, every N iterations")[0]
        ax.plot(ends, [r[name] for r in epochs], "o", color=line.get_color(), label=f"valid {name}, per epoch")
        ax.set(xlabel="epoch", title="Metrics")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


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


def snapshots_figure(images, targets, epochs: list[int], predicted, classes: list[str], colors=None):
    """One row per fixed image: the input (and the true mask), then the prediction at each epoch;
    `predicted(epoch, i)` gives a mask of class indices, or a list of (label, probability), best first."""
    from fashionseg.data.colors import colorize, default_colors

    dense = targets.ndim == 3
    lead = ["input", "truth"] if dense else ["input"]
    cols = len(lead) + len(epochs)
    fig, axes = plt.subplots(len(images), cols, figsize=(1.7 * cols, 1.8 * len(images)), squeeze=False)
    colors = colors or default_colors(len(classes))
    for i, row in enumerate(axes):
        for ax in row:
            ax.axis("off")
        row[0].imshow(images[i].permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray")
        truth = [] if dense else true_names(targets[i], classes)
        row[0].set_title("input" if dense else f"input: {' '.join(truth) or '-'}", fontsize=7)
        if dense:
            row[1].imshow(colorize(targets[i], colors).numpy(), interpolation="nearest")
            row[1].set_title("truth", fontsize=7)
        for ax, epoch in zip(row[len(lead):], epochs):
            if dense:
                ax.imshow(colorize(predicted(epoch, i), colors).numpy(), interpolation="nearest")
                ax.set_title(f"epoch {epoch}", fontsize=7)
            else:
                top = predicted(epoch, i)
                ax.imshow(images[i].permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray")
                ax.set_title(f"epoch {epoch}\n" + "\n".join(f"{label} {p:.0%}" for label, p in top), fontsize=6,
                             color="green" if top[0][0] in truth else "red")
    fig.suptitle("Predictions on fixed validation images during training", fontsize=9)
    fig.tight_layout()
    return fig


def true_names(target, classes: list[str]) -> list[str]:
    """An item's true class, or its true labels when the target is one 0/1 value per label (multi-label)."""
    if target.ndim == 0:
        return [classes[int(target)]]
    return [c for c, on in zip(classes, target.tolist()) if on]


def lr_find_figure(recorder, suggestions: dict[str, float], title: str, skip_end: int = 5):
    """Loss against learning rate (log scale), as fastai's plot draws it, with each suggested rate marked."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(recorder.lrs[:-skip_end], [float(v) for v in recorder.losses[:-skip_end]])
    ax.set(xscale="log", xlabel="learning rate", ylabel="loss (smoothed)", title=title)
    ax.grid(alpha=0.3)
    for (name, value), color in zip(suggestions.items(), ("C1", "C2", "C3", "C4")):
        ax.axvline(value, color=color, linestyle="--", label=f"{name} {value:.1e}")
    ax.legend()
    return fig



def batch_figure(data, n: int, title: str):
    """fastai's `show_batch` of `n` training items as training sees them (augmented), masks over their images
    in the class colours (void pixels left clear)."""
    from matplotlib.colors import ListedColormap

    kwargs = {}
    if data.colors:  # masks
        cmap = ListedColormap(data.colors).with_extremes(over=(0, 0, 0, 0))
        kwargs = dict(cmap=cmap, vmin=-0.5, vmax=len(data.colors) - 0.5, interpolation="nearest")
    data.dls.train.show_batch(max_n=n, **kwargs)
    fig = plt.gcf()
    fig.suptitle(title, fontsize=9)
    return fig


def examples_figure(rows, denormalize, suptitle: str):
    """Rows of test images, each titled and coloured green when right, red when wrong (the top-losses figures).

    `rows`: `[(items, show)]` where `show(item)` gives `(normalised image (C, H, W), title, right)`;
    `denormalize` (e.g. `Data.denormalize`) takes a batch of them back to [0, 1]."""
    k = max(1, max(len(items) for items, _ in rows))
    fig, axes = plt.subplots(len(rows), k, figsize=(k * 1.6, len(rows) * 2.1), squeeze=False, layout="constrained")
    for row, (items, show) in zip(axes, rows):
        for m, ax in enumerate(row):
            ax.axis("off")
            if m >= len(items):
                continue
            x, title, right = show(items[m])
            ax.imshow(denormalize(x[None].float())[0].permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray")
            ax.set_title(title, fontsize=6, color="green" if right else "red")
    fig.suptitle(suptitle, fontsize=8)
    return fig
