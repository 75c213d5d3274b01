"""Building for training: the recipe's data, model (with its pretrained weights), loss, optimizer, metrics
and callbacks, as one fastai Learner."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from fastai.torch_core import set_seed, trainable_params

from fashionseg.build.checks import Parts, as_run, check_against_data, check_forward, check_input_size, check_recipe
from fashionseg.build.optimizers import optimizer
from fashionseg.build.scoring import scoring
from fashionseg.callbacks.dispatch import Learner
from fashionseg.callbacks.finetune import body_head_splitter
from fashionseg.callbacks.precision import check_precision
from fashionseg.data import Data, DataRequest, applied_stats
from fashionseg.data.balance import balanced, imbalance_warning
from fashionseg.errors import FashionsegError
from fashionseg.models.hub import folder_stats, hub_id, hub_weights
from fashionseg.models.weights import WeightsReport, load_pretrained
from fashionseg.models.whitening import Whitened, training_images, whiten_first_conv
from fashionseg.recipe.schema import Recipe
from fashionseg.recipe.sizes import size_schedule
from fashionseg.registry.components import Architecture
from fashionseg.registry.plugins import create_model, registry
from fashionseg.utils.device import device


def pretrained_weights(recipe: Recipe, arch: Architecture, model: torch.nn.Module,
                       classes: list[str] | None = None) -> WeightsReport | None:
    """The recipe's `weights` loaded into `model`: a file, a model folder, `hf-hub:ORG/NAME` or the architecture's
    published weights (`pretrained`), the last two from the hub's cache or downloaded into it."""
    if not recipe.weights or (recipe.weights == "pretrained" and arch.pretrained is None):
        return None  # none asked for, or the factory loaded them (`pretrained_options`) and reported it
    return load_pretrained(model, weights_path(recipe.weights, arch), head=arch.feature_layer, classes=classes)


def weights_path(weights: str, arch: Architecture) -> Path:
    """The file a recipe's `weights` names, fetched into the standard caches when it is the hub's."""
    if weights == "pretrained":
        return Path(arch.pretrained())
    if hub_id(weights) or Path(weights).expanduser().is_dir():
        return hub_weights(weights)
    return Path(weights)


def build_data(recipe: Recipe, parts: Parts | None = None, on=None) -> Data:
    """The recipe's data, through its data set's factory (a `DataRequest` in, `Data` out)."""
    parts = parts or check_recipe(recipe)
    request = DataRequest.from_recipe(recipe, parts.data_options, on if on is not None else device(),
                                      weights_stats(recipe.weights, parts.arch))
    data = parts.dataset.load()(request)
    if not isinstance(data, Data):
        raise FashionsegError(f"data set {parts.dataset.name!r} of plugin {parts.dataset.plugin!r} returned "
                              f"{type(data).__name__}; a data-set factory must return fashionseg.Data")
    if data.task != parts.dataset.task:
        raise FashionsegError(f"data set {parts.dataset.name!r} of plugin {parts.dataset.plugin!r} is registered for "
                              f"task {parts.dataset.task!r} but its Data says {data.task!r}; the two must agree")
    if request.stats is not None:  # data.json records what the batches were normalised with
        data.stats = applied_stats(data.dls) or data.stats
    return balanced(data, parts.data_options)


def warn_if_imbalanced(data: Data):
    """Say so when the largest training class has more than ten times the items of the smallest."""
    from fashionseg.utils.rank import main_console

    counts = data.class_counts().get("class_counts")
    warning = imbalance_warning(data.classes, list(counts["train"].values())) if counts else None
    if warning:
        main_console().print(warning, style="yellow", markup=False, highlight=False, soft_wrap=True)


def weights_stats(weights: str, arch: Architecture):
    """`(mean, std)` the recipe's pretrained weights were trained with, when known: the architecture's published
    statistics (timm's `pretrained_cfg`), or a model folder's config.json; None otherwise."""
    if weights == "pretrained":
        return arch.pretrained_stats() if arch.pretrained_stats else None
    if weights and (hub_id(weights) or Path(weights).expanduser().is_dir()):
        return folder_stats(weights)
    return None


def input_size(recipe: Recipe, data: Data) -> tuple[int, int] | None:
    """The size the trained model sees: the last of the recipe's sizes, else the data's own."""
    schedule = size_schedule(recipe.sizes)
    return tuple(schedule[-1][1]) if schedule else data.input_size


def build_model(recipe: Recipe, n_classes: int, n_in: int, pretrained: bool = False) -> torch.nn.Module:
    """The recipe's architecture sized for the data (untrained; `pretrained`: started from the published weights
    an architecture loads itself through its `pretrained_options`, when the recipe asks for them)."""
    arch = registry().get("architecture", recipe.arch)
    options = dict(recipe.arch_options)
    if pretrained and recipe.weights == "pretrained" and arch.pretrained_options:
        options = {**arch.pretrained_options, **options}
    try:
        model = create_model(recipe.arch, n_classes, n_in, **options)
    except FashionsegError as exc:
        hint = "; --arch-options '{}' clears the recipe's arch_options" if recipe.arch_options else ""
        raise FashionsegError(f"{exc}{hint}") from None
    if not isinstance(model, torch.nn.Module):
        raise FashionsegError(f"architecture {arch.name!r} of plugin {arch.plugin!r} returned "
                              f"{type(model).__name__}; a factory must return a torch.nn.Module")
    return model


@dataclass
class Built:
    """Everything a training run needs, before any run folder exists."""

    recipe: Recipe
    parts: Parts
    data: Data
    learn: Learner
    weights: WeightsReport | None = None  # what loading the recipe's pretrained weights did
    whitened: Whitened | None = None  # what starting the first convolution as whitening filters did


def build_learner(recipe: Recipe, cbs=(), parts: Parts | None = None, pretrained: bool = True) -> Built:
    """Check the recipe and its precision on this device, then build its data, model (with the recipe's
    weights unless `pretrained` is False: a resumed run has its own), loss, metrics, optimizer and Learner."""
    from fastai.callback.channelslast import ChannelsLast
    from fastai.callback.progress import ProgressCallback

    from fashionseg.callbacks.attach import learner_callbacks
    from fashionseg.utils.allocator import keep_freed_memory
    from fashionseg.utils.distributed import check_sync_bn, join, main_first

    parts = parts or check_recipe(recipe)
    recipe = as_run(recipe, parts)
    keep_freed_memory()
    join()  # before device(): each launched process trains on its own GPU
    check_precision(recipe.precision, device())  # here, not in check_recipe: a GPU run is analysed on CPUs
    check_sync_bn(recipe.sync_bn, device())
    set_seed(recipe.seed)
    data = main_first(build_data, recipe, parts)
    check_input_size(parts.arch, recipe, data)
    check_against_data(recipe, data)
    warn_if_imbalanced(data)
    model = build_model(recipe, len(data.classes), data.n_in, pretrained)
    check_forward(model, parts.arch, recipe, data)
    report = pretrained_weights(recipe, parts.arch, model, list(data.classes)) if pretrained else None
    # whitening also when resuming: last.pth then brings the filters, and the fixed ones stay fixed
    whitened = whiten_first_conv(model, training_images(data.dls.train)) if recipe.whiten else None
    splitter = body_head_splitter(parts.arch.feature_layer, parts.arch.name) if recipe.freeze_epochs else trainable_params
    scorers = scoring(recipe, parts, data.ignore_index, device(), data.classes, data.class_weights)
    learn = Learner(data.dls, model, loss_func=scorers.loss_func,
                    opt_func=optimizer(recipe.opt), metrics=scorers.metrics, splitter=splitter,
                    wd=recipe.wd, path=".", cbs=list(cbs))
    if recipe.channels_last:
        learn.add_cb(ChannelsLast())
    learn.remove_cb(ProgressCallback)
    learn.add_cbs(learner_callbacks(recipe, device(), len(data.classes)))
    return Built(recipe, parts, data, learn, report, whitened)
