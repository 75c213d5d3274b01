"""Plugin `classification`: one label per image. Scores (`classification_scores`): per-class precision, recall,
F1, support, ROC-AUC and AP, averages, balanced and top-k accuracy, calibration. Figures: confusion matrix,
PR curves, reliability diagram, the highest-loss wrong and most confident right test predictions; report:
the most frequent confusions and those predictions; predict: the top classes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from fashionseg.plugin import Section, Task, TopItems, hookimpl


class TopLosses:
    """The `k` wrong test predictions with the highest loss and the `k` right ones made with the most
    confidence (fastai's `plot_top_losses` idea); items are numbered in test-set order."""

    def __init__(self, k: int = 8):
        self.wrong, self.right, self.seen = TopItems(k), TopItems(k), 0

    def update(self, xb, probs, yb):
        import torch

        yb = yb.as_subclass(torch.Tensor).long()
        p_true = probs.gather(1, yb[:, None])[:, 0]
        conf, preds = probs.max(1)
        losses = -p_true.clamp(min=1e-12).log()
        right = preds == yb
        for keeper, among, score in ((self.right, right, conf), (self.wrong, ~right, losses)):
            for i in candidates(among, score, keeper.k):
                item = Example(self.seen + i, xb[i], int(yb[i]), int(preds[i]), float(p_true[i]), float(losses[i]))
                keeper.add(float(score[i]), item.detached)
        self.seen += len(yb)

    def sections(self, data) -> list[Section]:
        """The figure's items as report tables, numbered in test-set order."""
        def row(ex):
            return [ex.index, data.classes[ex.true], data.classes[ex.pred], round(ex.loss, 4), round(ex.p_true, 4)]

        header = ["test item", "true", "predicted", "loss", "p(true)"]
        return [Section(title, header, [row(ex) for ex in items]) for title, items in
                (("Highest-loss wrong test predictions", self.wrong.items()),
                 ("Most confident right test predictions", self.right.items())) if items]


def candidates(among, score, k: int) -> list[int]:
    """The batch positions (in order) that may enter a top-`k` keeper: of the items `among` selects, the `k`
    with the highest `score`, earlier first among equals, as `TopItems` itself ranks them; the rest of the
    batch is outranked by these and would never be kept, so no Python work is spent on it."""
    import torch

    index = among.nonzero()[:, 0]
    if len(index) > k:
        index = index[torch.sort(-score[index], stable=True).indices[:k]].sort().values
    return index.tolist()


@dataclass
class Example:
    """One test item as the report shows it."""

    index: int
    x: object
    true: int
    pred: int
    p_true: float
    loss: float

    def detached(self) -> "Example":
        return Example(self.index, self.x.detach().cpu(), self.true, self.pred, self.p_true, self.loss)


def examples_figure(picker: TopLosses, data):
    """Two rows: the highest-loss wrong predictions (red) and the most confident right ones (green)."""
    from fashionseg.plugin import examples_figure as grid

    def show(ex):
        title = (f"#{ex.index} pred {data.classes[ex.pred]}\ntrue {data.classes[ex.true]}\n"
                 f"loss {ex.loss:.2f} p {ex.p_true:.2f}")
        return ex.x, title, ex.true == ex.pred

    return grid([(picker.wrong.items(), show), (picker.right.items(), show)], data.denormalize,
                "Test predictions: highest-loss wrong (top, red) and most confident right (bottom, green); "
                "p is the true class's probability")


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
    mixes = True
    commands = frozenset({"cam", "embed"})
    data_free_figures = frozenset({"confusion_matrix"})

    def observers(self, data):
        from fashionseg_plugins.tasks.classification_scores import ClassScores

        return [TopLosses(), ClassScores()]

    def evaluation_data(self, path, summary, recipe):
        """image-folder: class folders (or train/ valid/ test/ of them), a CSV file of file,label, decoded at the
        run's size and channels; a run trained on image-folder keeps its own options (e.g. a pattern)."""
        options = dict(recipe.data_options) if recipe.dataset == "image-folder" else {}
        options.update(path=str(path), csv=None, image_size=summary.get("image_size"), channels=summary["n_in"],
                       augment="none")
        if path.is_file():
            options.update(path=str(path.parent), csv=path.name)
        return {"dataset": "image-folder", "data_options": options, "valid": "test"}

    def figures(self, run, data, results, observers):
        from fashionseg.plugin import confusion_matrix

        from fashionseg_plugins.tasks.classification_scores import pr_curves, reliability_diagram

        cm = confusion_matrix(results["confusion_matrix"], data.classes)
        title = "Highest-loss wrong and most confident right test predictions"
        return [("Confusion matrix (row-normalised, counts in cells)", run.save_figure(cm, "confusion_matrix")),
                (title, run.save_figure(examples_figure(observers[0], data), "top_losses")),
                ("Precision-recall curves", run.save_figure(pr_curves(observers[1], data.classes), "pr_curves")),
                ("Reliability diagram", run.save_figure(reliability_diagram(observers[1]), "reliability"))]

    def sections(self, results, data):
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
            row[f"label_{i}"], row[f"prob_{i}"] = name, p
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
