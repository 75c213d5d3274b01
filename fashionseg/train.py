"""The recipe runner: recipe -> data -> Learner -> fit -> run folder -> report."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from fastai.callback.channelslast import ChannelsLast
from fastai.callback.progress import ProgressCallback
from fastai.callback.schedule import fit_one_cycle  # noqa: F401  (patches Learner)
from fastai.learner import Learner
from fastai.optimizer import SGD, Adam, OptimWrapper
from fastai.torch_core import default_device, set_seed
from rich.console import Console

from . import plots, report
from .callbacks import EpochCSV, TrainClock
from .errors import FashionsegError
from .losses import make_loss
from .progress import RichProgress
from .recipe import Recipe
from .registry import create_model, registry
from .resize import ProgressiveResize, size_schedule
from .runfolder import RunFolder
from .tasks import task_module
from .training_log import training_callbacks, training_curves


@dataclass
class RunResult:
    run: RunFolder
    results: dict
    learner: Learner


def device() -> torch.device:
    """CUDA when present, else CPU."""
    return default_device(None if torch.cuda.is_available() else False)


def check_components(recipe: Recipe):
    """Resolve every name in the recipe before any work starts; task mismatches are errors."""
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
    return dataset, arch, metrics


def build_model(recipe: Recipe, data) -> torch.nn.Module:
    """The recipe's architecture sized for the data (untrained)."""
    return create_model(recipe.arch, len(data.classes), data.n_in, **recipe.arch_options)


def final_evaluators(recipe: Recipe) -> dict:
    """Fresh evaluators for the recipe's final-stage metrics, by name."""
    reg = registry()
    return {m: reg.get("metric", m).factory() for m in recipe.metrics if reg.get("metric", m).stage == "final"}


def optimizer(name: str):
    """The fastai `opt_func` a recipe's `opt` names (see `fashionseg.recipe.OPTIMIZERS`)."""
    if name == "torch-adam":
        return partial(OptimWrapper, opt=torch.optim.Adam)
    return {"adam": Adam, "sgd": SGD}[name]


def build_learner(recipe: Recipe, console: Console | None = None, cbs=()):
    """The Data and fastai Learner a recipe describes."""
    dataset, arch, metrics = check_components(recipe)
    set_seed(recipe.seed)
    data = dataset.factory(recipe, device())
    model = build_model(recipe, data)
    epoch_metrics = [m.factory() for m in metrics if m.stage == "epoch"]
    learn = Learner(
        data.dls, model, loss_func=make_loss(recipe, data.task, device()),
        opt_func=optimizer(recipe.opt), metrics=epoch_metrics, wd=recipe.wd, path=".", cbs=list(cbs),
    )
    if recipe.channels_last:
        learn.add_cb(ChannelsLast())
    learn.remove_cb(ProgressCallback)
    learn.add_cb(TrainClock())
    if recipe.sizes:
        learn.add_cb(ProgressiveResize(recipe.sizes))
    learn.add_cb(RichProgress(console, title=f"{recipe.name}: {arch.name} on {dataset.name}"))
    return data, learn


def input_size(recipe: Recipe, data) -> list[int] | None:
    """The size the trained model expects: the last of the recipe's sizes, else the data's own."""
    schedule = size_schedule(recipe.sizes)
    return list(schedule[-1][1]) if schedule else data.info.get("image_size")


def fit(learn: Learner, recipe: Recipe):
    if recipe.schedule == "one-cycle":
        learn.fit_one_cycle(recipe.epochs, recipe.lr)
    else:
        learn.fit(recipe.epochs, recipe.lr)


def run(recipe: Recipe, runs_dir: str | Path = "runs", console: Console | None = None, cbs=()) -> RunResult:
    """Train a recipe and write its run folder; returns the folder and final test metrics.

    `cbs`: extra fastai callbacks, e.g. a benchmark's timers.
    """
    console = console or Console()
    check_components(recipe)
    run = RunFolder.create(runs_dir, recipe.name)
    run.write_json("config.json", recipe.to_dict())
    run.status("running")
    console.print(f"[bold]run folder[/] {run.path}")
    try:
        data, learn = build_learner(recipe, console, cbs=[EpochCSV(run), *training_callbacks(run, recipe), *cbs])
        run.write_json("data.json", {**data.summary(), "input_size": input_size(recipe, data)})
        fit(learn, recipe)
        run.save_weights(learn.model)
        results = finish(run, recipe, data, learn, console, learn.train_seconds)
    except KeyboardInterrupt:
        run.status("interrupted")
        raise
    except BaseException as exc:
        run.status("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    run.status("finished")
    return RunResult(run, results, learn)


def finish(run: RunFolder, recipe: Recipe, data, learn: Learner, console: Console, train_seconds: float) -> dict:
    """Evaluate on the test set, draw figures, write metrics.json and report.md, print the report."""
    from .evaluate import evaluate

    reg = registry()
    task = task_module(data.task)
    evaluators = {m: reg.get("metric", m).factory() for m in recipe.metrics if reg.get("metric", m).stage == "final"}
    observers = task.observers(data)
    results = evaluate(learn.model, data.test_dl, evaluators, data.classes, learn.loss_func, learn.metrics, observers)
    if not data.test_is_valid:
        results.update(last_validation_scores(learn))
    results["train_seconds"] = round(train_seconds, 2)
    figures = [("Loss curves", run.save_figure(plots.loss_curves(learn.recorder), "loss_curves"))]
    filters = plots.first_conv_filters(learn.model)
    if filters is not None:
        figures.append(("First conv layer filters", run.save_figure(filters, "first_conv_filters")))
    iterations = run.read_csv("iterations.csv")
    if iterations:
        curves = training_curves(iterations, read_epochs(run))
        figures.append(("Training curves (every N iterations and per epoch)", run.save_figure(curves, "training_curves")))
    figures += task.figures(run, learn, data, results, observers)
    extras = task.extras(results, data.classes)
    run.write_json("metrics.json", {**results, **extras, "figures": dict((t, p) for t, p in figures)})
    epochs = read_epochs(run)
    md = report.markdown_report(recipe.to_dict(), results, figures, extras, epochs)
    run.write_text("report.md", md)
    report.console_report(console, f"{recipe.name}: test set", results, extras)
    console.print(f"[bold green]done[/] report: {run.path / 'report.md'}")
    return results


def last_validation_scores(learn: Learner) -> dict:
    """The last epoch's hold-out validation numbers, reported beside the test numbers.

    Empty when training stopped before its first epoch ended (e.g. a benchmark's time budget).
    """
    if not learn.recorder.values:
        return {}
    names = ["loss"] + [m.name for m in learn.metrics]
    return {f"valid_{n}": float(v) for n, v in zip(names, learn.recorder.values[-1][1:])}


def read_epochs(run: RunFolder) -> list[dict]:
    return run.read_csv("metrics.csv")
