"""What a plugin contributes: named architectures, metrics and data sets."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

TASKS = ("classification", "segmentation")


@dataclass
class Component:
    """A named factory; `plugin` is filled in by the registry."""

    name: str
    factory: Callable[..., Any]
    task: str
    description: str = ""
    plugin: str = field(default="", compare=False)
    kind: ClassVar[str] = "component"

    def __post_init__(self):
        if self.task not in TASKS + ("any",):
            raise ValueError(f"{self.kind} {self.name!r}: task must be one of {TASKS + ('any',)}")
        if not self.description:
            doc = inspect.getdoc(self.factory) or ""
            self.description = doc.strip().splitlines()[0] if doc.strip() else ""


@dataclass
class Architecture(Component):
    """`factory(n_classes, n_in, **options)` returns an `nn.Module`.

    Classification models return logits `(B, n_classes)`; segmentation models return
    score maps `(B, n_classes, H, W)` the size of the input.
    """

    kind: ClassVar[str] = "architecture"


@dataclass
class Metric(Component):
    """`factory()` returns a fastai metric (stage "epoch", shown every epoch) or an
    evaluator with `update(probs, targets)` and `result(classes) -> dict` (stage "final",
    computed once on the test set)."""

    stage: str = "epoch"
    kind: ClassVar[str] = "metric"

    def __post_init__(self):
        super().__post_init__()
        if self.stage not in ("epoch", "final"):
            raise ValueError(f"metric {self.name!r}: stage must be 'epoch' or 'final'")


@dataclass
class Dataset(Component):
    """`factory(recipe)` returns a `fashionseg.data.Data` built from the recipe's settings."""

    kind: ClassVar[str] = "dataset"
