"""The `Task` protocol: everything that differs between kinds of experiment.

The core never tests a task's name; it asks the run's task (found through the data set's
`task`) what to do. A task plugin subclasses `Task` and returns an instance from the
`fashionseg_tasks` hook. Keep the module that defines it light: import torch, matplotlib
and the like inside the methods, so listing components stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar


@dataclass
class Section:
    """A table in the console report and in report.md (e.g. the most frequent confusions)."""

    title: str
    header: list[str]
    rows: list[list]


class Task:
    """Override what differs; the defaults suit a task whose model returns class scores on axis 1."""

    name: str = ""
    description: str = ""
    # The class axis that losses reduce over: -1 for logits (B, n_classes), 1 for score maps
    # (B, n_classes, H, W).
    loss_axis: int = -1
    default_loss: str = "cross-entropy"
    # Whether the model maps any input size to score maps of that size, so a sliding window
    # (`tile`) can predict large images piece by piece.
    tiles: bool = False
    # Whether the left-right mirror of an input gives the mirrored prediction, so flip TTA (`tta`) applies.
    flips: bool = True
    # Whether MixUp and CutMix (`mixup`, `cutmix`) apply: one class label per input, blended as soft targets.
    mixes: bool = False
    # Analysis commands that apply to this task's runs: "cam", "embed".
    commands: frozenset[str] = frozenset()
    # The report sections the core draws for this task: "per-class" (the per-class metrics, hardest
    # classes marked, and their mean over classes) and "test-time" (how the test set was predicted:
    # flip TTA, sliding window). A task whose results have no classes leaves out "per-class".
    report_sections: frozenset[str] = frozenset({"per-class", "test-time"})
    # Another task whose architectures fit this one (the same output shape), e.g. "classification" for a
    # task whose model also returns one score per class; "" for none.
    architectures_from: str = ""
    # data.json facts that a reader of an exported model needs to use its output (e.g. multi-label decision
    # thresholds): copied into model.json's `output`.
    exported_facts: tuple[str, ...] = ()
    # Names of the figures this task draws (under figures/) that show no data item (e.g. a confusion matrix):
    # a model card or Space carries them always; the rest only when asked (`--with-examples`).
    data_free_figures: frozenset[str] = frozenset()
    kind: ClassVar[str] = "task"
    plugin: str = ""

    @property
    def task(self) -> str:
        """Tasks are listed under their own name (`fashionseg list tasks`)."""
        return self.name

    def probabilities(self, output):
        """Model output of one batch -> the probabilities final evaluators see."""
        return output.float().softmax(1)

    def average(self, outputs: list):
        """Several models' outputs for one batch as one output whose probabilities are the mean of theirs
        (an ensemble): the log of the mean softmax, which softmax turns back into that mean."""
        import math

        import torch

        log_probs = torch.stack([o.float().log_softmax(1) for o in outputs])
        return torch.logsumexp(log_probs, 0) - math.log(len(outputs))

    def item_losses(self, probs, targets):
        """Each item's negative log-likelihood of its targets under `probs` (the test loss `evaluate` reports
        for checkpoints and ensembles): the log of the true class's probability."""
        return -probs.gather(1, targets.long().unsqueeze(1)).clamp_min(1e-12).log()

    def targets(self, yb):
        """A batch's targets as a plain tensor for final evaluators."""
        import torch

        return yb.as_subclass(torch.Tensor)

    def after_fit(self, learn, data) -> dict:
        """Facts learned once training ends, before the test pass (e.g. decision thresholds tuned on the
        validation set): merged into data.json, which final evaluators and `predict` read."""
        return {}

    def observers(self, data) -> list:
        """Objects with `update(inputs, probs, targets)` fed during the final test pass (figure helpers, scores);
        one may also have `sections(data)`, report tables of what it saw, and `result(classes)`, metrics every
        evaluation of this task reports (a dict as a final metric's; a metric the recipe chose keeps its value)."""
        return []

    def evaluation_data(self, path: Path, summary: dict, recipe) -> dict:
        """Recipe settings (dataset, data_options, valid) that read a user's labelled data at `path` (a folder
        or a file such as a CSV) for `fashionseg evaluate RUN --data PATH`; `summary` is the run's data.json,
        `recipe` its recipe. Every item the data set then yields, in any split, is evaluated."""
        from fashionseg.errors import FashionsegError

        raise FashionsegError(f"task {self.name!r} names no data set that reads labelled folders; use "
                              "`fashionseg evaluate RUN --dataset NAME` instead of --data")

    def figures(self, run, data, results: dict, observers: list) -> list[tuple[str, str]]:
        """Task figures saved in the run folder after evaluation: `[(title, relative path)]`."""
        return []

    def sections(self, results: dict, data) -> list[Section]:
        """Extra report tables, shown on the console and in report.md."""
        return []

    def predict(self, model, x, summary: dict) -> Any:
        """The prediction for one normalised input `x` `(1, C, H, W)` (model in eval mode, no grad);
        `summary` is the run's data.json."""
        from fashionseg.errors import FashionsegError

        raise FashionsegError(f"task {self.name!r} does not predict single images; its plugin implements no predict")

    def predict_batch(self, model, x, summary: dict, sizes: list[tuple[int, int]]) -> list:
        """One prediction per image of the normalised batch `x` `(B, C, H, W)`; `sizes` are the images'
        own sizes before they were resized to the model's (a mask comes back at its image's size)."""
        return [self.predict(model, x[i:i + 1], summary) for i in range(len(x))]

    def csv_row(self, prediction, summary: dict, top_k: int = 3) -> dict:
        """One image's prediction as CSV columns (`fashionseg predict --csv`): the `describe` table's rows."""
        return {str(row[0]): row[1] for row in self.describe(prediction, summary).rows}

    def save_predictions(self, prediction, image, summary: dict, stem: Path, blend: float | None = None) -> list[Path]:
        """The files `fashionseg predict --out DIR` writes for one image, named `<stem>_...`."""
        out = self.save_prediction(prediction, image, summary, stem.with_name(f"{stem.name}_prediction.png"), blend)
        return [out] if out else []

    def output(self, n_classes: int) -> dict:
        """What the model's output is, for those who run an exported model without fashionseg (model.json's
        `output`: name, shape, meaning). The default: class scores on axis 1 (score maps when `tiles`)."""
        if self.tiles:
            return {"name": "logits", "shape": ["batch", n_classes, "height", "width"],
                    "meaning": "logits; softmax over dim 1 gives class probabilities; argmax over dim 1 the mask, "
                               "at the input's height and width"}
        return {"name": "logits", "shape": ["batch", n_classes],
                "meaning": "logits; softmax over dim 1 gives class probabilities"}

    def describe(self, prediction, summary: dict) -> Section:
        """A prediction as a console table. Keep numbers as numbers in its rows: the console shows them
        rounded, `predict --csv` (the default `csv_row`) writes them at full precision."""
        from fashionseg.errors import FashionsegError

        raise FashionsegError(f"task {self.name!r} cannot show a prediction; its plugin implements no describe")

    def save_prediction(self, prediction, image, summary: dict, out: Path, blend: float | None = None) -> Path | None:
        """Write a prediction for the uint8 `image` `(C, H, W)` as a file at `out` (e.g. a coloured
        mask, blended over the image with weight `blend`); None when the task writes no file."""
        return None
