"""What a plugin contributes: named architectures, metrics and data sets.

Importing this module is cheap (no torch): a factory may be given as a `"module:attribute"`
string that is imported only when the component is built, so `fashionseg list` stays fast.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

ANY_TASK = "any"


@dataclass
class Component:
    """A named factory; `plugin` is filled in by the registry.

    `task` names a registered task (see `fashionseg list tasks`) or "any".
    """

    name: str
    factory: Callable[..., Any] | str
    task: str = ANY_TASK
    description: str = ""
    plugin: str = field(default="", compare=False)
    kind: ClassVar[str] = "component"

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a {self.kind} needs a non-empty name, got {self.name!r}")
        if not (callable(self.factory) or (isinstance(self.factory, str) and ":" in self.factory)):
            raise ValueError(f"{self.kind} {self.name!r}: factory must be callable or 'module:attribute', "
                             f"got {self.factory!r}")
        if not self.description and callable(self.factory):
            doc = inspect.getdoc(self.factory) or ""
            self.description = doc.strip().splitlines()[0] if doc.strip() else ""

    def load(self) -> Callable[..., Any]:
        """The factory itself, imported now if it was named by a string."""
        if callable(self.factory):
            return self.factory
        from fashionseg.errors import FashionsegError

        module, _, attr = self.factory.partition(":")
        try:
            self.factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise FashionsegError(f"{self.kind} {self.name!r} of plugin {self.plugin!r} cannot load its factory "
                                  f"{self.factory!r}: {exc}") from exc
        return self.factory


@dataclass
class Architecture(Component):
    """`factory(n_classes, n_in, **options)` returns an `nn.Module`.

    Classification models return logits `(B, n_classes)`; segmentation models return score
    maps `(B, n_classes, H, W)` the size of the input. Declared, so commands can check them
    before any work:
    - `input_size`: `(H, W)` the model needs (e.g. a flatten before a linear layer); None: any size.
    - `class_maps`: name of a method returning class maps `(B, n_classes, h, w)` whose global
      pooling gives the logits (what `fashionseg cam --method cam` draws).
    - `feature_layer`: name of the module whose input is the image's feature vector
      (what `fashionseg embed` embeds), e.g. the final linear layer.
    """

    input_size: tuple[int, int] | None = None
    class_maps: str | None = None
    feature_layer: str | None = None
    pretrained: Callable[[], Any] | None = None  # the local file of its published weights (`weights: pretrained`)
    # `(mean, std)` per channel that its published weights were trained with: the data is normalised with them
    pretrained_stats: Callable[[], Any] | None = None
    # factory options that make it start from its published weights itself (smp: {"encoder_weights": "imagenet"}),
    # what `weights: pretrained` means for an architecture without a `pretrained` file
    pretrained_options: dict | None = None
    kind: ClassVar[str] = "architecture"


@dataclass
class ArchitectureProvider(Component):
    """Architectures named `<name>:<model>` made on demand, e.g. every timm model as `timm:<model>`.

    `factory(model) -> Architecture` (an unknown model is a `FashionsegError` with close matches);
    `names(pattern) -> list[str]` lists the models matching a wildcard. Both may be "module:attribute".
    """

    names: Callable[[str], list[str]] | str = ""
    kind: ClassVar[str] = "architecture provider"

    def list(self, pattern: str) -> list[str]:
        """`<name>:<model>` for each model of the provider matching `pattern` (given without the prefix)."""
        names = self.names
        if isinstance(names, str):
            module, _, attr = names.partition(":")
            names = getattr(importlib.import_module(module), attr)
        return [f"{self.name}:{m}" for m in names(pattern)]


@dataclass
class Metric(Component):
    """A metric, at one of two stages.

    - "epoch": `factory()` returns any fastai metric (a function `(pred, targ) -> value`, or
      an `AccumMetric`/`Metric` such as `skm_to_fastai(...)`, `F1Score()`, `RocAuc()`); shown
      every epoch and computed once more on the test set.
    - "final": `factory()` returns an evaluator with `update(probs, targets)` (called batch by
      batch on the test set) and `result(classes) -> dict` of floats (scalar metrics) and
      `{class name: float}` dicts (per-class metrics).
    """

    stage: str = "epoch"
    kind: ClassVar[str] = "metric"

    def __post_init__(self):
        super().__post_init__()
        if self.stage not in ("epoch", "final"):
            raise ValueError(f"metric {self.name!r}: stage must be 'epoch' or 'final'")


@dataclass
class Dataset(Component):
    """`factory(request: fashionseg.DataRequest) -> fashionseg.Data`.

    `options` declares every `data_options` key the data set takes, with its default; the core
    rejects other keys and checks `augment` before any data is read or a run folder is made.
    """

    options: dict = field(default_factory=dict)
    kind: ClassVar[str] = "dataset"
