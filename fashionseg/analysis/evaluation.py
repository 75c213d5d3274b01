"""A trained run scored on other labelled data (`fashionseg evaluate RUN --data PATH | --dataset NAME`).

The data comes through the data layer's one entry point (`build_data`), so every format it reads works;
classes are matched by name to the run's; inputs are normalised as the run's were; the run is scored as
its own report did (`evaluate_as_trained`). Results go to `RUN/evaluations/<data-name>-<stamp>/`, a
folder `fashionseg runs RUN/evaluations` lists and `fashionseg compare RUN RUN/evaluations` sets beside it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from fashionseg.build.checks import check_recipe
from fashionseg.build.learner import build_data
from fashionseg.data import Data
from fashionseg.errors import FashionsegError
from fashionseg.infer.evaluate import evaluate_as_trained
from fashionseg.infer.trained import TrainedRun
from fashionseg.infer.tta import describe
from fashionseg.recipe.schema import Recipe
from fashionseg.run_folders.folder import RunFolder

SPLITS = ("train", "valid", "test")


@dataclasses.dataclass
class EvaluationData:
    """Where the items come from (`name` names the results folder), the recipe and data they were read with,
    the items."""

    name: str
    source: str
    recipe: Recipe
    data: Data
    items: list[int]


def evaluation_data(trained: TrainedRun, path: str | None = None, dataset: str | None = None,
                    split: str = "test") -> EvaluationData:
    """The labelled items to score: every item the data layer reads at `path`, or one split of data set
    `dataset` (of the run's own data set: the split as the run used it, so `--split valid` is its hold-out)."""
    if (path is None) == (dataset is None):
        raise FashionsegError("evaluate takes either --data PATH or --dataset NAME (with --split), not both")
    if split not in SPLITS:
        raise FashionsegError(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    everything = {"limit": 0, "eval_limit": 0, "train_items": ""}
    if path is not None:
        where = Path(path).expanduser()
        if not where.exists():
            raise FashionsegError(f"{where} does not exist; pass --data a folder (or file) of labelled data")
        settings = trained.task.evaluation_data(where, trained.summary, trained.recipe)
        recipe = trained.recipe.override(**settings, **everything)
        data = build_data(recipe, check_recipe(recipe), on=model_device(trained))
        items = [i for dl in data.dls.loaders for i in dl.dataset.items]
        return EvaluationData(where.stem or where.name, str(where), recipe, data, items)
    if dataset == trained.recipe.dataset:  # the run's own splits, as it trained, validated and tested on them
        recipe = trained.recipe
    else:
        recipe = dataclasses.replace(trained.recipe.override(dataset=dataset, **everything), data_options={})
    data = build_data(recipe, check_recipe(recipe), on=model_device(trained))
    loader = {"train": data.dls.train, "valid": data.dls.valid, "test": data.test_dl}[split]
    return EvaluationData(f"{dataset}-{split}", f"data set {dataset}, {split} split", recipe, data,
                          list(loader.dataset.items))


def model_device(trained: TrainedRun):
    return next(trained.model.parameters()).device


def class_table(theirs: list[str], ours: list[str]) -> torch.Tensor:
    """Each of the data's class indices -> the run's index of the class of that name; an unknown name is an error."""
    unknown = [c for c in theirs if c not in ours]
    if unknown:
        raise FashionsegError(f"the data has classes the run does not know: {', '.join(unknown)}; the data's classes "
                              f"are {', '.join(theirs)}, the run's are {', '.join(ours)} (a subset of the run's is fine)")
    return torch.tensor([ours.index(c) for c in theirs])


class AsTrained:
    """Batches of other data as the run's loaders gave them: targets as the run's class indices (an ignore
    value, past the data's classes, becomes the run's `ignore`), inputs normalised with the run's statistics."""

    def __init__(self, dl, table: torch.Tensor, ignore: int, stats, run_stats):
        self.dl, self.table, self.ignore = dl, table.to(dl.device or "cpu"), ignore
        self.stats, self.run_stats = stats, run_stats

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        for xb, yb in self.dl:
            yield renormalized(xb, self.stats, self.run_stats), self.relabelled(yb)

    def relabelled(self, yb):
        y = yb.as_subclass(torch.Tensor).long()
        known = y < len(self.table)
        mapped = torch.where(known, self.table[y.clamp(0, len(self.table) - 1)], torch.full_like(y, self.ignore))
        return mapped.as_subclass(type(yb))


def renormalized(x: torch.Tensor, stats, run_stats) -> torch.Tensor:
    """`x` normalised with `stats` (mean, std) made normalised with `run_stats` instead (None: unnormalised)."""
    if stats == run_stats:
        return x
    mean, std = as_columns(stats, x)
    run_mean, run_std = as_columns(run_stats, x)
    return (x * std + mean - run_mean) / run_std


def as_columns(stats, x):
    if stats is None:
        return 0.0, 1.0
    return tuple(torch.tensor(s, dtype=x.dtype, device=x.device).view(1, -1, 1, 1) for s in stats)


def scored(trained: TrainedRun, source: EvaluationData, watch=()):
    """(results, observers, the data as the run sees it) of the run on `source`'s items; `watch`: more
    observers (`update(inputs, probs, targets)`), e.g. a check that keeps every score."""
    batches = as_run_batches(trained, source)
    as_run = dataclasses.replace(source.data, classes=trained.classes, colors=trained.summary.get("colors"),
                                 stats=batches.run_stats)
    observers = trained.task.observers(as_run)
    results = evaluate_as_trained(trained.model, batches, trained.scoring(), trained.classes, trained.task,
                                  trained.recipe, [*observers, *watch])
    return results, observers, as_run


def as_run_batches(trained: TrainedRun, source: EvaluationData) -> AsTrained:
    """`source`'s items in batches as the run's loaders gave them: classes matched by name (an unknown one is
    an error), inputs normalised with the run's statistics, pixels to ignore as `AsTrained.ignore`."""
    data, summary = source.data, trained.summary
    if data.n_in != summary["n_in"]:
        raise FashionsegError(f"{source.source} has {data.n_in}-channel images; the run was trained on "
                              f"{summary['n_in']}-channel ones")
    table = class_table(list(data.classes), trained.classes)
    ignore = summary.get("ignore_index") if summary.get("ignore_index") is not None else data.ignore_index
    dl = data.dls.test_dl(source.items, with_labels=True, bs=trained.recipe.bs)
    run_stats = [list(s) for s in summary["stats"]] if summary.get("stats") else None
    stats = [list(s) for s in data.stats] if data.stats else None
    return AsTrained(dl, table, 255 if ignore is None else ignore, stats, run_stats)


def evaluate_on(trained: TrainedRun, source: EvaluationData, console) -> tuple[RunFolder, dict]:
    """Score the run on `source` and write `RUN/evaluations/<name>-<stamp>/` (metrics.json, report.md,
    figures; config.json, the recipe the data was read with, and status.json, so the run tools read it); the run's
    own files are left alone."""
    from fashionseg.report.tables import console_report, markdown_report

    results, observers, data = scored(trained, source)
    folder = RunFolder.create(trained.path / "evaluations", source.name)
    task = trained.task
    figures = task.figures(folder, data, results, observers)
    sections = [*task.sections(results, data), *(s for ob in observers if hasattr(ob, "sections")
                                                 for s in ob.sections(data))]
    config = {**source.recipe.to_dict(), "name": f"{trained.recipe.name} on {source.name}",
              "description": f"{trained.path} evaluated on {source.source} ({len(source.items)} items)"}
    evaluated = {"run": str(trained.path), "data": source.source, "items": len(source.items),
                 "data_classes": list(source.data.classes)}
    folder.write_json("config.json", config)
    folder.write_json("data.json", trained.summary)
    folder.write_json("metrics.json", {**results, "evaluated": evaluated, "figures": dict(figures),
                                       "inference": describe(trained.recipe.tta, trained.recipe.tile,
                                                             trained.recipe.overlap),
                                       "sections": {s.title: {"header": s.header, "rows": s.rows} for s in sections}})
    per_class = "per-class" in task.report_sections
    folder.write_text("report.md", markdown_report(config, results, figures, sections, per_class=per_class))
    folder.status("finished")
    console_report(console, f"{trained.path.name} on {source.source}", results, sections, per_class=per_class)
    console.print(f"[bold green]done[/] report: {folder.path / 'report.md'}")
    return folder, results
