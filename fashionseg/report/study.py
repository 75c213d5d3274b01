"""A tuning study's report: the trials table (live on the console, trials.csv, study.md), Optuna's
optimisation history and parameter importances as figures, the best trial and its test score apart."""
from __future__ import annotations

import warnings
from pathlib import Path

from rich.table import Table

from fashionseg.report.tables import markdown_table, runs_table
from fashionseg.run_folders.folder import RunFolder


def trial_rows(study, metric: str) -> tuple[list[str], list[list]]:
    """One row per trial: number, state, each parameter, the score (or the last epoch's while running), run."""
    trials = study.get_trials(deepcopy=False)
    params = list(dict.fromkeys(p for tr in trials for p in tr.params))
    rows = []
    for tr in trials:
        steps = tr.intermediate_values
        value = tr.value if tr.value is not None else (steps[max(steps)] if steps else None)
        epochs = max(steps) + 1 if steps else None
        rows.append([tr.number, tr.state.name.lower(), *(tr.params.get(p) for p in params), value, epochs,
                     tr.user_attrs.get("run") or tr.user_attrs.get("error")])
    return ["trial", "state", *params, metric, "epochs", "run"], rows


def study_table(study, metric: str) -> Table:
    """The trials as a rich table (the live view while the study runs)."""
    return runs_table(f"Study {study.study_name}", *trial_rows(study, metric))


def importances(study) -> dict[str, float]:
    """Optuna's parameter importances (fANOVA); empty until two trials with different settings completed."""
    import optuna

    try:
        return {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def study_figures(folder: RunFolder, study, has_importances: bool) -> list[tuple[str, str]]:
    """Optimisation history and (when there are any) parameter importances, saved as PNGs."""
    from optuna.visualization import matplotlib as plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        figures = [("Optimisation history", folder.save_figure(plots.plot_optimization_history(study).figure,
                                                               "history"))]
        if has_importances:
            axes = plots.plot_param_importances(study)
            figures.append(("Parameter importances", folder.save_figure(axes.figure, "importances")))
    return figures


def write_study_report(tune_dir: Path, study, metric: str, best: dict | None) -> dict[str, float]:
    """trials.csv, study.md and its figures in `tune_dir`; `best`: the best trial's number, run, params,
    value, test metrics and reproducing command (None when no trial completed). Returns the importances."""
    folder = RunFolder(tune_dir)
    header, rows = trial_rows(study, metric)
    folder.write_csv("trials.csv", header, rows)
    found = importances(study) if best else {}
    lines = [f"# Study {study.study_name}", "", f"{len(rows)} trials, {study.direction.name.lower()} {metric} on "
             "the validation hold-out (never the test set).", "", *markdown_table(header, rows), ""]
    if best:
        lines += [f"## Best trial: {best['number']}", "", f"{metric} {best['value']:.4f} with {best['params']}, run "
                  f"`{best['run']}`.", "", "Reproduce it:", "", f"    {best['command']}", "",
                  "## Test set of the best trial (reported once, never used to choose)", "",
                  *markdown_table(["metric", "value"], [[k, v] for k, v in best["test"].items()]), ""]
    if found:
        lines += ["## Parameter importances (Optuna, fANOVA)", "",
                  *markdown_table(["parameter", "importance"], [[k, v] for k, v in found.items()]), ""]
    for title, path in study_figures(folder, study, bool(found)) if study.trials else []:
        lines += [f"## {title}", "", f"![{title}]({path})", ""]
    folder.write_text("study.md", "\n".join(lines))
    return found
