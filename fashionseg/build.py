"""The one place that builds things: components resolved and checked from a recipe, then the
data, model, loss, optimizer, evaluators and fastai Learner for training; and a trained model
rebuilt from a run folder alone (config.json, data.json, weights) for inference and analysis.

Commands, ensembles, analysis and predict import from here, never from the runner (train.py).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from fastai.learner import Learner
from fastai.torch_core import default_device, set_seed, trainable_params

from .analysis.after_training import check_after_training
from .components import Architecture, Dataset, Metric
from .data import Data, DataRequest, check_data_options
from .errors import FashionsegError
from .finetune import body_head_splitter
from .losses import make_loss
from .precision import check_precision, precision_callbacks
from .recipe import Recipe
from .registry import create_model, registry
from .resize import RunAtSize
from .sizes import size_schedule
from .stopping import check_monitor, stopping_callbacks
from .runfolder import RunFolder
from .task import Task
from .trackers import check_trackers
from .weights import WeightsReport, load_pretrained


def device() -> torch.device:
    """CUDA when present, else CPU."""
    return default_device(None if torch.cuda.is_available() else False)


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
    for comp in (arch, *metrics):
        if comp.task not in (dataset.task, "any"):
            raise FashionsegError(
                f"{comp.kind} {comp.name!r} is for {comp.task}, but data set {dataset.name!r} is {dataset.task}; "
                f"try `fashionseg list {comp.kind}s --task {dataset.task}`"
            )
    return Parts(reg.task(dataset.task), dataset, arch, metrics, dict(recipe.data_options))


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
    if recipe.tile and not parts.task.tiles:
        raise FashionsegError(f"tile (sliding-window evaluation) needs score maps; task {parts.task.name!r} predicts "
                              "one label per image, so leave tile at 0")
    final_evaluators(recipe, parts)
    check_after_training(recipe, parts)
    return parts


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
    if recipe.weights == "pretrained" and arch.pretrained is None:
        raise FashionsegError(f"architecture {arch.name!r} has no published weights to take from a cache; use a "
                              "timm: architecture (e.g. timm:resnet18) or pass --weights FILE")
    if recipe.freeze_epochs:
        body_head_splitter(arch.feature_layer, arch.name)


def pretrained_weights(recipe: Recipe, arch: Architecture, model: torch.nn.Module) -> WeightsReport | None:
    """The recipe's `weights` loaded into `model` (a file, or the architecture's cached published weights)."""
    if not recipe.weights:
        return None
    path = arch.pretrained() if recipe.weights == "pretrained" else recipe.weights
    return load_pretrained(model, path, head=arch.feature_layer)


def build_data(recipe: Recipe, parts: Parts | None = None, on=None) -> Data:
    """The recipe's data, through its data set's factory (a `DataRequest` in, `Data` out)."""
    parts = parts or check_recipe(recipe)
    request = DataRequest.from_recipe(recipe, parts.data_options, on if on is not None else device())
    data = parts.dataset.load()(request)
    if not isinstance(data, Data):
        raise FashionsegError(f"data set {parts.dataset.name!r} of plugin {parts.dataset.plugin!r} returned "
                              f"{type(data).__name__}; a data-set factory must return fashionseg.Data")
    if data.task != parts.dataset.task:
        raise FashionsegError(f"data set {parts.dataset.name!r} of plugin {parts.dataset.plugin!r} is registered for "
                              f"task {parts.dataset.task!r} but its Data says {data.task!r}; the two must agree")
    return data


def input_size(recipe: Recipe, data: Data) -> tuple[int, int] | None:
    """The size the trained model sees: the last of the recipe's sizes, else the data's own."""
    schedule = size_schedule(recipe.sizes)
    return tuple(schedule[-1][1]) if schedule else data.input_size


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
    """Settings that need the data's size: one loss weight per class, a batch no larger than the training set."""
    weight = recipe.loss_options.get("weight")
    if weight is not None and not (isinstance(weight, (list, tuple)) and len(weight) == len(data.classes)):
        given = f"{len(weight)} values" if isinstance(weight, (list, tuple)) else repr(weight)
        raise FashionsegError(f"loss_options.weight has {given} but data set {recipe.dataset!r} has "
                              f"{len(data.classes)} classes ({', '.join(data.classes)}); give one weight per class")
    n_train = len(data.dls.train.dataset)
    if len(data.dls.train) == 0:  # fastai drops the last incomplete training batch
        raise FashionsegError(f"bs {recipe.bs} is larger than the {n_train} training items, so no batch would "
                              f"train; lower --bs to at most {n_train} or train on more items")


def build_model(recipe: Recipe, n_classes: int, n_in: int) -> torch.nn.Module:
    """The recipe's architecture sized for the data (untrained)."""
    arch = registry().get("architecture", recipe.arch)
    try:
        model = create_model(recipe.arch, n_classes, n_in, **recipe.arch_options)
    except FashionsegError as exc:
        hint = "; --arch-options '{}' clears the recipe's arch_options" if recipe.arch_options else ""
        raise FashionsegError(f"{exc}{hint}") from None
    if not isinstance(model, torch.nn.Module):
        raise FashionsegError(f"architecture {arch.name!r} of plugin {arch.plugin!r} returned "
                              f"{type(model).__name__}; a factory must return a torch.nn.Module")
    return model


def final_evaluators(recipe: Recipe, parts: Parts | None = None) -> dict:
    """Fresh evaluators for the recipe's final-stage metrics, by name, checked against the contract."""
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


def optimizer(name: str):
    """The fastai `opt_func` a recipe's `opt` names (see `fashionseg.recipe.OPTIMIZERS`)."""
    from fastai.optimizer import SGD, Adam, OptimWrapper

    if name == "torch-adam":
        return partial(OptimWrapper, opt=torch.optim.Adam)
    return {"adam": Adam, "sgd": SGD}[name]


@dataclass
class Built:
    """Everything a training run needs, before any run folder exists."""

    recipe: Recipe
    parts: Parts
    data: Data
    learn: Learner
    weights: WeightsReport | None = None  # what loading the recipe's pretrained weights did


def build_learner(recipe: Recipe, cbs=(), parts: Parts | None = None, pretrained: bool = True) -> Built:
    """Check the recipe and its precision on this device, then build its data, model (with the recipe's
    weights unless `pretrained` is False: a resumed run has its own), loss, metrics, optimizer and Learner."""
    from fastai.callback.channelslast import ChannelsLast
    from fastai.callback.progress import ProgressCallback

    from .allocator import keep_freed_memory
    from .callbacks import TrainClock
    from .distributed import check_sync_bn, join, main_first
    from .ema import WeightEMA
    from .resize import ProgressiveResize

    parts = parts or check_recipe(recipe)
    keep_freed_memory()
    join()  # before device(): each launched process trains on its own GPU
    check_precision(recipe.precision, device())  # here, not in check_recipe: a GPU run is analysed on CPUs
    check_sync_bn(recipe.sync_bn, device())
    set_seed(recipe.seed)
    data = main_first(build_data, recipe, parts)
    check_input_size(parts.arch, recipe, data)
    check_against_data(recipe, data)
    model = build_model(recipe, len(data.classes), data.n_in)
    check_forward(model, parts.arch, recipe, data)
    report = pretrained_weights(recipe, parts.arch, model) if pretrained else None
    splitter = body_head_splitter(parts.arch.feature_layer, parts.arch.name) if recipe.freeze_epochs else trainable_params
    learn = Learner(data.dls, model, loss_func=make_loss(recipe, parts.task, device(), data.ignore_index),
                    opt_func=optimizer(recipe.opt), metrics=epoch_metrics(parts), splitter=splitter,
                    wd=recipe.wd, path=".", cbs=list(cbs))
    if recipe.channels_last:
        learn.add_cb(ChannelsLast())
    learn.remove_cb(ProgressCallback)
    learn.add_cb(TrainClock())
    learn.add_cbs([*stopping_callbacks(recipe), *precision_callbacks(recipe.precision, device())])
    if recipe.sizes:
        learn.add_cb(ProgressiveResize(recipe.sizes))
    if float(recipe.ema):
        learn.add_cb(WeightEMA(recipe.ema))
    return Built(recipe, parts, data, learn, report)


@dataclass
class Trained:
    """A trained model brought back from its run folder alone, in eval mode on `device`."""

    run: RunFolder
    recipe: Recipe
    summary: dict  # data.json
    task: Task
    arch: Architecture
    model: torch.nn.Module

    def new_model(self, weights: str = "model.pth") -> torch.nn.Module:
        """Another copy of the architecture with the run's `weights` file loaded (e.g. a checkpoint)."""
        return load_model(self.run, self.recipe, self.summary, weights)


def load_model(run: RunFolder, recipe: Recipe, summary: dict, weights: str = "model.pth", on=None):
    """The run's architecture with `weights` loaded, run at its training input size, in eval mode."""
    from .allocator import keep_freed_memory

    keep_freed_memory()
    model = run.load_weights(build_model(recipe, len(summary["classes"]), summary["n_in"]), weights)
    if summary.get("input_size"):
        RunAtSize(model, summary["input_size"])
    return model.to(on if on is not None else device()).eval()


def model_from_run(path: str | Path, weights: str = "model.pth", on=None) -> Trained:
    """Rebuild a run's trained model from config.json, data.json and its weights; no training data needed."""
    run = RunFolder.open(path)
    recipe = Recipe.from_dict(run.read_json("config.json"))
    if not (run.path / "data.json").is_file():
        raise FashionsegError(f"{run.path} has no data.json; it did not get past loading its data, train it again")
    summary = run.read_json("data.json")
    reg = registry()
    task, arch = reg.task(summary["task"]), reg.get("architecture", recipe.arch)
    return Trained(run, recipe, summary, task, arch, load_model(run, recipe, summary, weights, on))
