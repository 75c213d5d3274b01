"""Any runs side by side, like a sweep's ablation table: each run's state, chosen test metrics and the
settings that differ between the runs (from each config.json). Imports neither torch nor fastai."""
from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from fashionseg.errors import FashionsegError
from fashionseg.report.tables import markdown_table
from fashionseg.run_folders.state import run_folders
from fashionseg.run_folders.summary import RunSummary, flat_run_settings, headline_metrics


@dataclass
class Comparison:
    """The table (header and rows) and the settings every run shares (left out of the table)."""

    header: list[str]
    rows: list[list]
    same: dict

    def shared(self) -> list[str]:
        """The settings every run shares, as KEY=VALUE."""
        return [f"{k}={setting_text(v)}" for k, v in self.same.items()]

    def markdown(self, title: str) -> str:
        lines = [f"# {title}", "", *markdown_table(self.header, self.rows)]
        if self.same:
            lines += ["", "Same in every run: " + ", ".join(f"`{kv}`" for kv in self.shared()) + "."]
        return "\n".join(lines) + "\n"


def setting_text(value) -> str | None:
    """A setting as the command line writes it (lr 0.001, track mlflow,wandb); None when a run lacks it."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return None if value is None else str(value)


def find_runs(args: list[str]) -> list[Path]:
    """Run folders from folders and globs: a folder of runs (runs/, a sweep) gives its runs; a glob's
    matches that are not runs are passed over; an explicit path that is no run is an error."""
    found = []
    for arg in args:
        if any(c in arg for c in "*?["):
            found += [Path(p) for p in sorted(glob.glob(arg)) if (Path(p) / "config.json").is_file()]
        elif (Path(arg) / "config.json").is_file():
            found.append(Path(arg))
        elif Path(arg).is_dir() and run_folders(Path(arg)):
            found += run_folders(Path(arg))
        else:
            why = "does not exist" if not Path(arg).exists() else "is not a run folder (no config.json)"
            raise FashionsegError(f"{arg} {why}; pass run folders, a folder of runs, or a quoted glob such as "
                                  f"'runs/fashion-*'")
    if not found:
        raise FashionsegError(f"no runs matched {' '.join(args)}; pass run folders or a glob such as 'runs/fashion-*'")
    unique = {p.resolve(): p for p in found}
    return list(unique.values())


def lower_is_better(metric: str) -> bool:
    """fastai's rule (TrackerCallback): lower is better for losses and errors, higher for the rest."""
    return "loss" in metric or "error" in metric


def compare(runs: list[RunSummary], metrics: list[str] | None = None, sort: str | None = None) -> Comparison:
    """One row per run: name, state, `metrics` (default: of the test metrics every finished run has, the
    losses and those the runs' recipes chose, see `headline_metrics`; `["all"]`: every shared one), then the
    settings that differ; `sort` orders by a metric (shown too), best first, runs without it last."""
    settings = {id(r): flat_run_settings(r) for r in runs}
    have = list(dict.fromkeys(k for r in runs for k in r.test_metrics))
    if metrics is None or metrics == ["all"]:
        shared = [m for m in have if all(m in r.test_metrics for r in runs if r.test_metrics)]
        chosen = [m for r in runs for m in (r.settings.get("metrics") or [])]
        metrics = shared if metrics else headline_metrics(shared, chosen)
    for m in [*metrics, *([sort] if sort else [])]:
        if m not in have:
            have_text = ", ".join(have) or "none (no run finished)"
            raise FashionsegError(f"no run has metric {m!r}; the runs have: {have_text}")
    if sort:
        metrics = metrics if sort in metrics else [*metrics, sort]
        sign = 1 if lower_is_better(sort) else -1
        runs = sorted(runs, key=lambda r: (sort not in r.test_metrics, sign * r.test_metrics.get(sort, 0)))
    keys = list(dict.fromkeys(k for r in runs for k in settings[id(r)]))
    missing = object()
    differ = [k for k in keys if len({repr(settings[id(r)].get(k, missing)) for r in runs}) > 1]
    same = {k: settings[id(runs[0])][k] for k in keys if k not in differ}
    names = [r.path.name for r in runs]
    if len(set(names)) < len(names):  # the same folder name under two parents (say two sweeps)
        names = [str(r.path) for r in runs]
    rows = [[name, r.state, *(r.test_metrics.get(m) for m in metrics),
             *(setting_text(settings[id(r)].get(k)) for k in differ)]
            for name, r in zip(names, runs)]
    return Comparison(["run", "state", *metrics, *differ], rows, same)
