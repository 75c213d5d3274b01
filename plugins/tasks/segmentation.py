"""Plugin `segmentation`: one class per pixel. Scores: per-class precision, recall, IoU, AP and support,
frequency-weighted IoU. Figures: test images with predicted and true masks in class colours, the first
ones and the worst by IoU, the pixel confusion matrix; predict: a coloured (or blended) mask and each
class's pixel share."""
from __future__ import annotations

from pathlib import Path

from fashionseg.plugin import Section, Task, TopItems, hookimpl


class PanelPicker:
    """Keeps the first `k` test images with their predicted and true masks."""

    def __init__(self, k: int = 6):
        self.k, self.picked = k, []

    def update(self, xb, probs, yb):
        for i in range(min(len(yb), self.k - len(self.picked))):
            self.picked.append((xb[i].detach().cpu(), probs[i].argmax(0).cpu(), yb[i].cpu()))


def image_iou(pred, true, n_classes: int) -> float:
    """Mean IoU of one image over the classes in its prediction or truth, ignored pixels left out."""
    import torch

    keep = true < n_classes
    pred, true = pred[keep], true[keep].long()
    ious = [((pred == c) & (true == c)).sum() / ((pred == c) | (true == c)).sum() for c in range(n_classes)
            if bool(((pred == c) | (true == c)).any())]
    return float(torch.stack(ious).mean()) if ious else float("nan")


class WorstIoU:
    """The `k` test images with the lowest mean IoU (numbered in test-set order), for the report."""

    def __init__(self, k: int = 4):
        self.worst, self.seen = TopItems(k), 0

    def update(self, xb, probs, yb):
        preds = probs.argmax(1)
        for i in range(len(yb)):
            iou = image_iou(preds[i], yb[i], probs.shape[1])
            if iou == iou:  # NaN: nothing kept to score
                self.worst.add(-iou, lambda i=i, iou=iou: (self.seen + i, iou, xb[i].detach().cpu(),
                                                           preds[i].cpu(), yb[i].cpu()))
        self.seen += len(yb)

    @property
    def picked(self) -> list:
        """`(x, prediction, truth)` rows for `panels_figure`, worst first."""
        return [(x, pred, true) for _, _, x, pred, true in self.worst.items()]

    def labels(self) -> list[str]:
        return [f"test item {index}, IoU {iou:.2f}" for index, iou, *_ in self.worst.items()]

    def sections(self, data) -> list[Section]:
        rows = [[index, round(iou, 4)] for index, iou, *_ in self.worst.items()]
        return [Section("Worst test images by mean IoU", ["test item", "mean IoU"], rows)] if rows else []


class PixelScores:
    """What every segmentation evaluation reports, from pixel confusion counts and score histograms (memory
    independent of the pixels): per-class precision, recall, IoU, AP and support (pixels), frequency-weighted
    IoU, and the pixel confusion matrix."""

    def __init__(self):
        from fashionseg_plugins.metrics.segmentation import PerClassAP, PerClassIoU

        self.iou, self.ap = PerClassIoU(), PerClassAP()

    def update(self, xb, probs, yb):
        self.iou.update(probs, yb)
        self.ap.update(probs, yb)

    def result(self, classes):
        cm = self.iou.confusion.double()
        hits, true, predicted = cm.diag(), cm.sum(1), cm.sum(0)
        out = {**self.iou.result(classes), **self.ap.result(classes)}
        iou = out["iou"]
        out.update(precision=dict(zip(classes, (hits / predicted).tolist())),  # NaN: never predicted
                   recall=dict(zip(classes, (hits / true).tolist())),  # NaN: absent from the truth
                   frequency_weighted_iou=sum(float(n) / float(cm.sum()) * iou[c] for c, n in zip(classes, true)
                                              if n > 0),
                   support=dict(zip(classes, map(int, true.tolist()))),
                   confusion_matrix=self.iou.confusion.tolist())
        return out


def panels_figure(picker, data, labels=None):
    """Input | prediction | ground truth for each picked image (`labels` above the inputs), with a
    legend of class colours."""
    from matplotlib.patches import Patch

    from fashionseg.plugin import colorize, default_colors, plt

    rows = len(picker.picked)
    colors = data.colors or default_colors(len(data.classes))
    fig, axes = plt.subplots(rows, 3, figsize=(7.5, 2.5 * rows + 0.6), squeeze=False)
    labels = labels or ["input"] * rows
    for row, label, (x, pred, true) in zip(axes, labels, picker.picked):
        image = data.denormalize(x[None].float())[0].permute(1, 2, 0).squeeze(-1).numpy()
        shown = (image, colorize(pred, colors).numpy(), colorize(true, colors).numpy())
        for ax, picture, title in zip(row, shown, (label, "prediction", "ground truth")):
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

    from fashionseg.plugin import colorize

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
        return [PanelPicker(), WorstIoU(), PixelScores()]

    def evaluation_data(self, path, summary, recipe):
        """mask-folder with the run's classes and colours: image/mask pairs in `path` itself or in its train/ and
        test/; a run trained on mask-folder keeps its own options (suffixes, mask format)."""
        from fashionseg.plugin import default_colors

        names = summary["classes"]
        colors = summary.get("colors") or default_colors(len(names))
        options = dict(recipe.data_options) if recipe.dataset == "mask-folder" else {}
        options.update(path=str(path), classes=dict(zip(names, colors)), image_size=summary.get("image_size"),
                       augment="none", ignore_index=summary.get("ignore_index"))
        if not (path / options.get("train", "train")).is_dir():
            options.update(train=".", test="")
        return {"dataset": "mask-folder", "data_options": options, "valid": "0.5"}

    def figures(self, run, data, results, observers):
        from fashionseg.plugin import confusion_matrix

        first, worst, _ = observers
        figs = [("Test predictions", run.save_figure(panels_figure(first, data), "test_predictions"))]
        if worst.picked:
            figure = panels_figure(worst, data, worst.labels())
            figs.append(("Worst test images by mean IoU", run.save_figure(figure, "worst_iou")))
        cm = confusion_matrix(results["confusion_matrix"], data.classes, "Pixel confusion matrix (test set)")
        figs.append(("Pixel confusion matrix (row-normalised, counts in cells)",
                     run.save_figure(cm, "pixel_confusion_matrix")))
        return figs

    def predict(self, model, x, summary):
        return self.predict_batch(model, x, summary, [tuple(x.shape[-2:])])[0]

    def predict_batch(self, model, x, summary, sizes):
        import torch.nn.functional as F

        scores = model(x).float()
        return [F.interpolate(s[None], size=tuple(size), mode="bilinear", align_corners=False)[0].argmax(0).cpu()
                for s, size in zip(scores, sizes)]

    def describe(self, prediction, summary):
        rows = [[name, f"{share:.1%}"] for name, share in shares(prediction, summary).items()]
        return Section(f"{prediction.shape[1]}x{prediction.shape[0]} pixels", ["class", "share"], rows)

    def csv_row(self, prediction, summary, top_k=3):
        return {f"share_{name}": share for name, share in shares(prediction, summary).items()}

    def save_predictions(self, prediction, image, summary, stem: Path, blend=None):
        """The mask in class colours (`<stem>_prediction.png`) and as class indices (`<stem>_classes.png`)."""
        import numpy as np

        from fashionseg.plugin import atomic_write

        coloured = self.save_prediction(prediction, image, summary, stem.with_name(f"{stem.name}_prediction.png"),
                                        blend)
        dtype = np.uint8 if len(summary["classes"]) <= 256 else np.uint16
        raw = stem.with_name(f"{stem.name}_classes.png")
        atomic_write(raw, png_bytes(prediction.numpy().astype(dtype)))
        return [coloured, raw]

    def save_prediction(self, prediction, image, summary, out: Path, blend=None):
        from fashionseg.plugin import atomic_write, default_colors

        colors = summary.get("colors") or default_colors(len(summary["classes"]))
        atomic_write(out, png_bytes(overlay(image, prediction, colors, blend).numpy()))
        return out


def shares(mask, summary) -> dict[str, float]:
    """Each class's share of the mask's pixels."""
    counts = mask.flatten().bincount(minlength=len(summary["classes"]))
    return {name: int(n) / mask.numel() for name, n in zip(summary["classes"], counts)}


def png_bytes(array) -> bytes:
    """An `(H, W[, 3])` array as PNG file contents."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


@hookimpl
def fashionseg_tasks():
    return [Segmentation()]
