"""Every up-front check: a recipe's components resolved by name and checked against each other, its
options, loss, metrics and analyses, and the settings that need the data; all before any run folder is
made."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch

from fashionseg.callbacks.finetune import body_head_splitter
from fashionseg.callbacks.stopping import check_monitor
from fashionseg.data import Data, check_data_options
from fashionseg.errors import FashionsegError
from fashionseg.models.losses import make_loss
from fashionseg.recipe.schema import Recipe
from fashionseg.recipe.sizes import size_schedule
from fashionseg.registry.components import Architecture, Dataset, Metric
from fashionseg.registry.plugins import registry
from fashionseg.registry.task import Task
from fashionseg.trackers.base import check_trackers


@dataclass
class Parts:
    """A recipe's components, resolved by name and checked against each other."""

    task: Task
    dataset: Dataset
    arch: Architecture
    metrics: list[Metric]
    data_options: dict  # the recipe's data_options with the data set's defaults filled in

    @property
    def epoch_metrics(self) -> list[Metric]:
        return [m for m in self.metrics if m.stage == "epoch"]

    def plugins(self) -> dict[str, str]:
        """Which plugin supplied each component, for the report's provenance."""
        comps = [self.task, self.dataset, self.arch, *self.metrics]
        return {f"{c.kind} {c.name}": c.plugin for c in comps}


def resolve(recipe: Recipe) -> Parts:
    """Every name in the recipe, looked up; components made for another task are errors."""
    reg = registry()
    dataset = reg.get("dataset", recipe.dataset)
    arch = reg.get("architecture", recipe.arch)
    metrics = [reg.get("metric", m) for m in recipe.metrics]
    task = reg.task(dataset.task)
    for comp in (arch, *metrics):
        fits = (dataset.task, "any", task.architectures_from) if comp is arch else (dataset.task, "any")
        if comp.task not in fits:
            raise FashionsegError(
                f"{comp.kind} {comp.name!r} is for {comp.task}, but data set {dataset.name!r} is {dataset.task}; "
                f"try `fashionseg list {comp.kind}s --task {dataset.task}`"
            )
    return Parts(task, dataset, arch, metrics, dict(recipe.data_options))


def check_recipe(recipe: Recipe) -> Parts:
    """Everything that can be checked without data, before any run folder is made: names, data
    options and augmentation, architecture options, the loss and its options, the early-stopping
    monitor, final metrics, the trackers' packages."""
    parts = resolve(recipe)
    check_trackers(recipe.track)
    parts.data_options = check_data_options(parts.dataset, recipe.data_options)
    check_arch_options(parts.arch, recipe.arch_options)
    check_weights(recipe, parts.arch)
    make_loss(recipe, parts.task)
    names = [getattr(m, "name", None) or getattr(m, "__name__", "") for m in epoch_metrics(parts)]
    if recipe.early_stop:
        check_monitor(recipe.monitor, names)
    if recipe.tta and not parts.task.flips:
        raise FashionsegError(f"tta (flip test-time augmentation) averages a prediction with that of the mirrored "
                              f"image; task {parts.task.name!r} predicts nothing that mirrors, so leave tta off")
    if recipe.tile and not parts.task.tiles:
        raise FashionsegError(f"tile (sliding-window evaluation) needs score maps; task {parts.task.name!r} predicts "
                              "one label per image, so leave tile at 0")
    check_mixing(recipe, parts.task)
    final_evaluators(recipe, parts)
    check_after_training(recipe, parts)
    return parts


def check_mixing(recipe: Recipe, task):
    """MixUp/CutMix blend one-label targets into soft ones, which only (unweighted) cross-entropy takes."""
    if not (float(recipe.mixup) or float(recipe.cutmix)):
        return
    if not task.mixes:
        raise FashionsegError(f"mixup and cutmix blend one class label per image; task {task.name!r} has no such "
                              "labels, so leave them at 0")
    if recipe.loss not in ("", "cross-entropy") or recipe.loss_options:
        raise FashionsegError(f"mixup and cutmix train on soft targets with plain cross-entropy; drop --loss "
                              f"{recipe.loss or 'cross-entropy'} and its loss_options, or leave mixup and cutmix at 0")


def as_run(recipe: Recipe, parts: Parts) -> Recipe:
    """The recipe as a run records it (config.json, report): the loss the task picks, by name, when the
    recipe names none."""
    return recipe if recipe.loss else recipe.override(loss=parts.task.default_loss)


def check_arch_options(arch: Architecture, options: dict):
    """The architecture's factory accepts these options (names checked against its signature)."""
    factory = arch.load()
    try:
        inspect.signature(factory).bind(2, 1, **options)
    except TypeError as exc:
        params = [p for p in list(inspect.signature(factory).parameters)[2:]]
        raise FashionsegError(f"architecture {arch.name!r} takes arch_options {', '.join(params) or 'none'}; "
                              f"{exc}") from None
    except ValueError:  # a builtin without a signature: nothing to check
        pass


def check_weights(recipe: Recipe, arch: Architecture):
    """`weights: pretrained` needs an architecture with published weights; freeze_epochs needs a declared head."""
    if recipe.weights == "pretrained" and arch.pretrained is None and not arch.pretrained_options:
        raise FashionsegError(f"architecture {arch.name!r} has no published weights to take from a cache; use a "
                              "timm: architecture (e.g. timm:resnet18) or pass --weights FILE, a model folder or "
                              "hf-hub:ORG/NAME")
    if recipe.freeze_epochs:
        body_head_splitter(arch.feature_layer, arch.name)


def check_forward(model: torch.nn.Module, arch: Architecture, recipe: Recipe, data: Data):
    """One forward pass of two blank images at the smallest training size, so that an architecture too deep
    for the images (e.g. a ConvNeXt at 28x28) fails here, in one line, rather than in the first batch."""
    sizes = [tuple(s) for _, s in size_schedule(recipe.sizes)] or [data.input_size]
    if None in sizes:
        return
    h, w = min(sizes, key=lambda s: s[0] * s[1])
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(2, data.n_in, h, w))
    except (RuntimeError, ValueError, IndexError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FashionsegError(f"architecture {arch.name!r} cannot take {data.n_in}x{h}x{w} inputs ({first}); "
                              "train at a larger size (--sizes \"[[0, 64]]\" or data_options.image_size) or "
                              "pick an architecture for small images") from None
    finally:
        model.train(was_training)


def check_input_size(arch: Architecture, recipe: Recipe, data: Data):
    """An architecture that needs one input size gets it at every epoch, else one clear error."""
    if arch.input_size is None:
        return
    sizes = [tuple(s) for _, s in size_schedule(recipe.sizes)] or [data.input_size]
    wrong = [s for s in sizes if s is None or tuple(s) != tuple(arch.input_size)]
    if wrong:
        h, w = arch.input_size
        raise FashionsegError(f"architecture {arch.name!r} needs {h}x{w} inputs, but data set {recipe.dataset!r} "
                              f"gives {wrong[0]}; pick an architecture for that size (e.g. one of "
                              f"`fashionseg list architectures`) or change the data's size")


def check_against_data(recipe: Recipe, data: Data):
    """Settings that need the data's size: one loss weight per class (or weights by class name, checked by
    the loss), a batch no larger than the training set."""
    weight = recipe.loss_options.get("weight")
    if weight is not None and data.class_weights is not None:
        raise FashionsegError("loss_options.weight and data_options.balance=weights both set the class weights; "
                              "keep one of them")
    if weight is not None and not isinstance(weight, dict) and not (
            isinstance(weight, (list, tuple)) and len(weight) == len(data.classes)):
        given = f"{len(weight)} values" if isinstance(weight, (list, tuple)) else repr(weight)
        raise FashionsegError(f"loss_options.weight has {given} but data set {recipe.dataset!r} has "
                              f"{len(data.classes)} classes ({', '.join(data.classes)}); give one weight per class")
    n_train = len(data.dls.train.dataset)
    if len(data.dls.train) == 0:  # fastai drops the last incomplete training batch
        raise FashionsegError(f"bs {recipe.bs} is larger than the {n_train} training items, so no batch would "
                              f"train; lower --bs to at most {n_train} or train on more items")


def final_evaluators(recipe: Recipe, parts: Parts | None = None, summary: dict | None = None) -> dict:
    """Fresh evaluators for the recipe's final-stage metrics, by name, checked against the contract; one
    with a `setup(summary)` method gets the run's data.json facts (e.g. decision thresholds) first."""
    metrics = parts.metrics if parts else [registry().get("metric", m) for m in recipe.metrics]
    evaluators = {}
    for m in metrics:
        if m.stage != "final":
            continue
        ev = m.load()()
        missing = [a for a in ("update", "result") if not callable(getattr(ev, a, None))]
        if missing:
            raise FashionsegError(f"final metric {m.name!r} of plugin {m.plugin!r} has no {' or '.join(missing)} "
                                  "method; a final metric needs update(probs, targets) and result(classes)")
        if summary is not None and callable(getattr(ev, "setup", None)):
            ev.setup(summary)
        evaluators[m.name] = ev
    return evaluators


def epoch_metrics(parts: Parts) -> list:
    """The fastai metrics shown every epoch, checked: each must be a fastai metric, and no two may
    report under one name (one column would silently hide the other)."""
    from fastai.learner import Metric as FastaiMetric

    made, seen = [], {}
    for m in parts.epoch_metrics:
        metric = m.load()()
        if not (callable(metric) or isinstance(metric, FastaiMetric)):
            raise FashionsegError(f"epoch metric {m.name!r} of plugin {m.plugin!r} returned {type(metric).__name__}; "
                                  "its factory must return a fastai metric (a function (pred, targ) or a "
                                  "fastai Metric)")
        name = getattr(metric, "name", None) or getattr(metric, "__name__", "")
        if name in seen:
            raise FashionsegError(f"epoch metrics {seen[name]!r} and {m.name!r} both report as {name!r}; rename one "
                                  "(skm_to_fastai(..., name=...), or set the metric's name)")
        seen[name] = m.name
        made.append(metric)
    return made


def check_after_training(recipe, parts):
    """A t-SNE needs a task that supports `embed` and an architecture that declares its feature layer."""
    if not recipe.tsne:
        return
    if "embed" not in parts.task.commands:
        raise FashionsegError(f"tsne applies to tasks that support embed; {parts.task.name!r} does not: drop --tsne")
    if not parts.arch.feature_layer:
        raise FashionsegError(f"tsne needs the features of architecture {parts.arch.name!r}, which declares no "
                              "feature_layer: drop --tsne, or set Architecture(..., feature_layer=...) in its plugin")
