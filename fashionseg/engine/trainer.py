"""The runner: it only runs and writes. `build.py` checks and builds everything from the recipe
before the run folder exists; then fit, evaluate on the test set, write the files, report."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from fastai.callback.schedule import ParamScheduler, fit_one_cycle  # noqa: F401  (patches Learner)
from fastai.learner import Learner
from rich.console import Console

from fashionseg.analysis.after_training import after_training
from fashionseg.build.checks import final_evaluators
from fashionseg.build.learner import Built, build_learner, input_size
from fashionseg.build.scoring import Scoring
from fashionseg.callbacks.attach import run_callbacks
from fashionseg.callbacks.checkpoints import LAST
from fashionseg.callbacks.finetune import fine_tune_callbacks
from fashionseg.callbacks.gradients import batch_norm_note
from fashionseg.callbacks.progress import progress_closed
from fashionseg.callbacks.replay import KeepValidation
from fashionseg.callbacks.stopping import (NonFiniteLoss, StopOnSignal, TrainingInterrupted, fail_if_nonfinite,
                                           stopping_sections)
from fashionseg.data.balance import class_count_sections
from fashionseg.engine.resume import restore, resumable
from fashionseg.engine.schedules import step_schedule
from fashionseg.errors import FashionsegError
from fashionseg.infer.evaluate import evaluate_as_trained
from fashionseg.infer.tta import describe, unflipped_tta_note
from fashionseg.models.weights import WEIGHTS_REPORT, weights_sections
from fashionseg.recipe.schema import Recipe
from fashionseg.registry.task import Section
from fashionseg.report.figures import first_conv_filters, loss_curves, training_curves
from fashionseg.report.provenance import provenance, provenance_markdown
from fashionseg.report.tables import console_report, markdown_report
from fashionseg.run_folders.folder import RunFolder
from fashionseg.trackers.session import tracking
from fashionseg.utils.device import device
from fashionseg.utils.distributed import data_parallel, leave_together, relaunch_words
from fashionseg.utils.rank import is_main, main_console


@dataclass
class RunResult:
    run: RunFolder
    results: dict
    learner: Learner


def fit(learn: Learner, recipe: Recipe, start_epoch: int = 0):
    """Train with the recipe's schedule; `start_epoch` continues a run at that epoch (fastai skips
    the epochs before it and every schedule takes up its position there)."""
    if recipe.freeze_epochs:
        learn.fit(recipe.epochs, recipe.lr, cbs=fine_tune_callbacks(recipe.lr, recipe.freeze_epochs, recipe.epochs),
                  start_epoch=start_epoch)
    elif recipe.schedule == "one-cycle":
        learn.fit_one_cycle(recipe.epochs, recipe.lr, start_epoch=start_epoch)
    elif recipe.schedule == "step":
        sched = step_schedule(recipe.lr, recipe.step_factor, recipe.step_every, recipe.epochs)
        learn.fit(recipe.epochs, recipe.lr, cbs=ParamScheduler({"lr": sched}), start_epoch=start_epoch)
    else:
        learn.fit(recipe.epochs, recipe.lr, start_epoch=start_epoch)


def run(recipe: Recipe, runs_dir: str | Path = "runs", console: Console | None = None, cbs=()) -> RunResult:
    """Train a recipe and write its run folder; returns the folder and final test metrics.

    Every mistake in the recipe or its data is found while building, before the folder exists.
    `cbs`: extra fastai callbacks, e.g. a benchmark's timers.
    """
    if recipe.folds:
        raise FashionsegError(f"folds={recipe.folds} trains one run per fold: use `fashionseg train --folds "
                              f"{recipe.folds}` or fashionseg.engine.kfold.run_kfold")
    console = main_console(console)
    built = build_learner(recipe, cbs=cbs)
    run = RunFolder.create(runs_dir, recipe.name)
    run.write_json("config.json", built.recipe.to_dict())
    with tracking(run, built):
        return train_and_report(run, built, console)


def resume_run(path: str | Path, console: Console | None = None, cbs=(), epochs: int | None = None) -> RunResult:
    """Continue a stopped run in its own folder from its last complete epoch (its last.pth).

    `epochs`: a new total, at least the epochs already done; recorded in config.json.
    """
    console = main_console(console)
    recipe = RunFolder.open(path).recipe()  # a wrong setting is named before last.pth is read
    folder, state = resumable(path)
    if epochs is not None and epochs != recipe.epochs:
        if epochs < state["epochs_done"]:
            raise FashionsegError(f"{folder.path} has done {state['epochs_done']} epochs; --epochs cannot be "
                                  "fewer when resuming")
        recipe = recipe.override(epochs=epochs)
    built = build_learner(recipe, cbs=cbs, pretrained=False)
    restore(built.learn, state)
    folder.write_json("config.json", built.recipe.to_dict())
    console.print(f"[bold]resuming[/] {folder.path}: {state['epochs_done']} of {recipe.epochs} epochs done")
    with tracking(folder, built, state):
        return train_and_report(folder, built, console, state)


@leave_together(TrainingInterrupted, NonFiniteLoss)
def train_and_report(run: RunFolder, built: Built, console: Console, state: dict | None = None) -> RunResult:
    """Fit (from `state`, a last.pth, when resuming), evaluate, write and report; status.json says how it ended.

    Launched on several processes, every rank fits its shard; rank 0 alone then tests and reports.
    """
    recipe, learn, resuming = built.recipe, built.learn, state is not None
    run.status("running")
    console.print(f"[bold]run folder[/] {run.path}")
    notes = (unflipped_tta_note(recipe.tta, built.parts.data_options.get("augment")),
             batch_norm_note(recipe.accumulate, recipe.bs, learn.model))
    for note in filter(None, notes):
        console.print(f"[yellow]{note}[/]")
    stop = StopOnSignal()
    try:
        title = f"{recipe.name}: {built.parts.arch.name} on {built.parts.dataset.name}"
        learn.add_cbs(run_callbacks(run, recipe, built.data, console, title, stop, state))
        if resuming and getattr(learn, "best_checkpoints", None) is not None:
            learn.best_checkpoints.restore(state["best"])
        if built.whitened is not None:
            w = built.whitened
            rest = "; the others train" if w.filters < w.out_channels else ""
            console.print(f"[bold]whitened[/] {w.filters} of the {w.out_channels} filters of the first convolution "
                          f"({w.layer}) (fixed{rest})")
        if built.weights is not None:
            built.weights.show(console)
            run.write_json(WEIGHTS_REPORT, built.weights.to_dict())
        write_summary(run, built)
        with stop.installed(), data_parallel(learn, recipe.sync_bn, console), progress_closed(learn):
            fit(learn, recipe, start_epoch=state["epochs_done"] if resuming else 0)
        if stop.received is not None:
            raise TrainingInterrupted(stop.received, resume_command(run))
        fail_if_nonfinite(learn, run)
        run.save_weights(learn.model)
        results = test_and_write(run, built, console) if is_main() else {}
    except TrainingInterrupted as exc:
        run.status("interrupted", signal=exc.signal, resume=exc.command)
        console.print(f"{exc.signal}: stopped after the current batch; resume with: {exc.command}",
                      markup=False, highlight=False, soft_wrap=True)
        raise
    except KeyboardInterrupt:
        run.status("interrupted", resume=resume_command(run))
        raise
    except BaseException as exc:
        try:  # a full disk may refuse status.json too: the first error is the one to report
            reason = str(exc) if isinstance(exc, FashionsegError) else f"{type(exc).__name__}: {exc}"
            run.status("failed", error=reason)
        except (OSError, FashionsegError):
            pass
        raise
    run.status("finished")
    run.remove(LAST)  # model.pth holds the weights; a finished run is not resumed
    return RunResult(run, results, learn)


def write_summary(run: RunFolder, built: Built):
    """data.json: the data's facts (and what the task learned after training), for evaluation and inference."""
    size = input_size(built.recipe, built.data)
    run.write_json("data.json", {**built.data.summary(), "input_size": list(size) if size else None})


def test_and_write(run: RunFolder, built: Built, console: Console) -> dict:
    """The final metrics on the whole test set, the run's figures, metrics.json and report."""
    learned = built.parts.task.after_fit(built.learn, built.data)
    if learned:
        built.data.extra.update(learned)
        write_summary(run, built)
    results, observers = evaluate_test_set(built)
    sections = write_outputs(run, built, results, observers)
    print_report(console, run, built, results, sections)
    after_training(run, built, console)
    return results


def resume_command(run: RunFolder) -> str:
    """The command that continues `run`, ready to paste (under torchrun when it was launched)."""
    return shlex.join([*relaunch_words(), "fashionseg", "train", "--resume", str(run.path.resolve())])


def evaluate_test_set(built: Built) -> tuple[dict, list]:
    """The final metrics on the test set (with the hold-out validation scores beside them), and
    the task's observers that watched the pass (for figures); with the recipe's TTA and tiles."""
    learn, data, task, recipe = built.learn, built.data, built.parts.task, built.recipe
    observers = task.observers(data)
    scorers = Scoring(learn.loss_func, learn.metrics, final_evaluators(recipe, built.parts, data.summary()))
    kept = next((cb for cb in learn.cbs if isinstance(cb, KeepValidation)), None)  # the test set's last validation
    batches = kept.batches_for(learn.model, data.test_dl) if kept is not None else None
    results = evaluate_as_trained(learn.model, data.test_dl, scorers, data.classes, task, recipe, observers, batches)
    if kept is not None:
        kept.clear()  # the kept batches (up to 512 MB) are not held by the returned learner
    if not data.test_is_valid:
        results.update(last_validation_scores(learn))
    return results, observers


def write_outputs(run: RunFolder, built: Built, results: dict, observers: list) -> list:
    """Figures, metrics.json and report.md; returns the task's report sections."""
    learn, data, task = built.learn, built.data, built.parts.task
    epochs = run.read_csv("metrics.csv")
    figures = run_figures(run, learn, epochs) if built.recipe.figures else []
    snapshots = getattr(learn, "epoch_snapshots", None)
    if snapshots is not None and snapshots.figure:
        figures.append(("Predictions on fixed validation images during training", snapshots.figure))
    if built.recipe.figures:
        figures += task.figures(run, data, results, observers)
    inference = describe(built.recipe.tta, built.recipe.tile, built.recipe.overlap)
    seen = [s for ob in observers if hasattr(ob, "sections") for s in ob.sections(data)]
    sections = [*task.sections(results, data), *seen, *class_count_sections(data), *stopping_sections(learn),
                *weights_sections(run)]
    if "test-time" in task.report_sections:
        sections.append(inference_section(inference))
    timings = {"train_seconds": round(learn.train_seconds, 2)}
    recipe = built.recipe
    prov, plugins = provenance(device(), recipe.bs, recipe.accumulate, recipe.clip), built.parts.plugins()
    run.write_json("metrics.json", {**results, "inference": inference, "timings": timings, "figures": dict(figures),
                                    "sections": {s.title: {"header": s.header, "rows": s.rows} for s in sections},
                                    "provenance": prov, "plugins": plugins})
    md = markdown_report(built.recipe.to_dict(), results, figures, sections, epochs, timings,
                         provenance_markdown(prov, plugins), per_class="per-class" in task.report_sections)
    run.write_text("report.md", md)
    return sections


def run_figures(run: RunFolder, learn, epochs: list) -> list:
    """The figures every run draws (loss curves, first-layer filters, training curves): `[(title, path)]`."""
    figures = [("Loss curves", run.save_figure(loss_curves(learn.recorder), "loss_curves"))]
    filters = first_conv_filters(learn.model)
    if filters is not None:
        figures.append(("First conv layer filters", run.save_figure(filters, "first_conv_filters")))
    iterations = run.read_csv("iterations.csv")
    if iterations:
        curves = training_curves(iterations, epochs)
        title = "Training curves (every N iterations and per epoch)"
        figures.append((title, run.save_figure(curves, "training_curves")))
    return figures


def inference_section(inference: dict) -> Section:
    """How the test set was predicted: flip TTA, sliding-window tile and overlap."""
    tile = f"{inference['tile']} px, overlap {inference['overlap']:.0%}" if inference["tile"] else "whole image"
    return Section("Test-time inference", ["what", "used"],
                   [["flip TTA", "yes" if inference["flip_tta"] else "no"], ["sliding window", tile]])


def print_report(console: Console, run: RunFolder, built: Built, results: dict, sections: list):
    per_class = "per-class" in built.parts.task.report_sections
    console_report(console, f"{built.recipe.name}: test set", results, sections, per_class=per_class)
    console.print(f"[bold green]done[/] report: {run.path / 'report.md'}")


def last_validation_scores(learn: Learner) -> dict:
    """The last epoch's hold-out validation numbers, reported beside the test numbers.

    Empty when training stopped before its first epoch ended (e.g. a benchmark's time budget).
    """
    if not learn.recorder.values:
        return {}
    names = ["loss"] + [m.name for m in learn.metrics]
    return {f"valid_{n}": float(v) for n, v in zip(names, learn.recorder.values[-1][1:])}
