"""Plugin `segmentation`: one class per pixel. Figures: test images with predicted and true
masks in class colours; predict: a coloured (or blended) mask and each class's pixel share."""
from __future__ import annotations

from pathlib import Path

from fashionseg import Section, Task, hookimpl


class PanelPicker:
    """Keeps the first `k` test images with their predicted and true masks."""

    def __init__(self, k: int = 6):
        self.k, self.picked = k, []

    def update(self, xb, probs, yb):
        for i in range(min(len(yb), self.k - len(self.picked))):
            self.picked.append((xb[i].detach().cpu(), probs[i].argmax(0).cpu(), yb[i].cpu()))


def panels_figure(picker: PanelPicker, data):
    """Input | prediction | ground truth for each picked image, with a legend of class colours."""
    from matplotlib.patches import Patch

    from fashionseg.data.colors import colorize, default_colors
    from fashionseg.plots import plt

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


def overlay(image, mask, colors, blend: float | None):
    """The mask in class colours `(H, W, 3)`, blended over the photo with weight `blend` when given."""
    import torch

    from fashionseg.data.colors import colorize

    painted = colorize(mask, colors)
    if blend is None:
        return painted
    photo = image.expand(3, -1, -1).permute(1, 2, 0).float()
    return (photo * (1 - blend) + painted.float() * blend).round().to(torch.uint8)


class Segmentation(Task):
    name = "segmentation"
    description = "One class per pixel: score maps (B, n_classes, H, W), per-class AP and IoU."
    loss_axis = 1
    tiles = True

    def observers(self, data):
        return [PanelPicker()]

    def figures(self, run, data, results, observers):
        return [("Test predictions", run.save_figure(panels_figure(observers[0], data), "test_predictions"))]

    def predict(self, model, x, summary):
        return model(x)[0].argmax(0).cpu()

    def describe(self, prediction, summary):
        counts = prediction.flatten().bincount(minlength=len(summary["classes"]))
        rows = [[name, f"{int(n) / prediction.numel():.1%}"] for name, n in zip(summary["classes"], counts)]
        return Section(f"{prediction.shape[1]}x{prediction.shape[0]} pixels", ["class", "share"], rows)

    def save_prediction(self, prediction, image, summary, out: Path, blend=None):
        import io

        from PIL import Image

        from fashionseg.data.colors import default_colors
        from fashionseg.runfolder import atomic_write

        colors = summary.get("colors") or default_colors(len(summary["classes"]))
        buf = io.BytesIO()
        Image.fromarray(overlay(image, prediction, colors, blend).numpy()).save(buf, format="PNG")
        atomic_write(out, buf.getvalue())
        return out


@hookimpl
def fashionseg_tasks():
    return [Segmentation()]
