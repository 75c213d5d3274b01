"""Tuning with Optuna: TPE over a search space, each trial an ordinary run folder scored on a hold-out of the
training items (never the test set), bad trials pruned from their per-epoch score. The study lives in an
SQLite file beside the trials' runs (or any Optuna RDB URL), so a re-run continues it and several worker
processes, on one machine or many, share it."""
from __future__ import annotations

import fcntl
import os
import socket
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import optuna
from fastai.callback.schedule import valley
from optuna.trial import TrialState
from rich.console import Console
from rich.live import Live

from fashionseg.build.checks import as_run, check_recipe, epoch_metrics
from fashionseg.callbacks.pruning import PruneTrial
from fashionseg.callbacks.stopping import check_monitor
from fashionseg.engine.lr_find import lr_suggestions
from fashionseg.engine.sweep import HOLD_OUT, resumable_run
from fashionseg.engine.trainer import resume_run, run
from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import Recipe
from fashionseg.recipe.space import Dimension, parse_space
from fashionseg.report.compare import lower_is_better
from fashionseg.report.study import study_table, write_study_report
from fashionseg.run_folders.state import pid_alive

STUDY_FILE = "study.db"


@dataclass
class Tuning:
    """What a study searches and how: the base recipe, the space, the trials in total, the score."""

    base: Recipe
    space: dict[str, Dimension]
    trials: int
    tune_dir: Path
    metric: str = "valid_loss"
    direction: str = ""
    storage: str = ""
    study_name: str = ""
    prune: bool = True
    pruner: optuna.pruners.BasePruner | None = None  # default: the median rule, or none without `prune`
    quiet: Console = field(default_factory=lambda: Console(quiet=True))

    def __post_init__(self):
        self.direction = self.direction or ("minimize" if lower_is_better(self.metric) else "maximize")
        self.storage = self.storage or f"sqlite:///{(self.tune_dir / STUDY_FILE).resolve()}"
        self.study_name = self.study_name or f"tune-{self.base.name}"


def scored_on_hold_out(recipe: Recipe, valid_given: bool, console: Console) -> Recipe:
    """The recipe whose trials never see the test set: `--valid test` is refused; a recipe validating on
    the test set is loudly switched to a hold-out of HOLD_OUT of its training items."""
    if recipe.valid != "test":
        return recipe
    if valid_given:
        raise FashionsegError("tune never scores trials on the test set; give --valid a hold-out fraction such as "
                              f"{HOLD_OUT} or a range of training items such as 250-350")
    console.print(f"[bold yellow]warning:[/] recipe {recipe.name!r} validates on the test set; tune scores its "
                  f"trials on a hold-out of {float(HOLD_OUT):.0%} of the training items instead (--valid to choose "
                  "another); the test set is scored once, for the best trial only")
    return recipe.override(valid=HOLD_OUT)


def check_tuning(t: Tuning):
    """Every name in the space and the metric, checked before a study or a run folder exists."""
    if not t.space:
        raise FashionsegError("tune needs a search space: --space lr=log:1e-4:1e-2 (or tune_space in the recipe)")
    if t.trials < 1:
        raise FashionsegError(f"--trials must be at least 1, got {t.trials}")
    if t.direction not in ("minimize", "maximize"):
        raise FashionsegError(f"--direction is minimize or maximize, not {t.direction!r}")
    for dim in t.space.values():
        for value in dim.choices or (dim.low, dim.high):
            check_recipe(t.base.override(**{dim.name: value}))
    names = [getattr(m, "name", None) or getattr(m, "__name__", "") for m in epoch_metrics(check_recipe(t.base))]
    check_monitor(t.metric, names, option="--metric")


def open_study(t: Tuning, worker: int = 0) -> optuna.Study:
    """The study, created or continued (`load_if_exists`); TPE seeded apart for each worker and re-run."""
    t.tune_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the trials table says what its info lines would
    pruner = t.pruner or (optuna.pruners.MedianPruner(n_startup_trials=2) if t.prune else optuna.pruners.NopPruner())
    try:
        study = optuna.create_study(storage=t.storage, study_name=t.study_name, direction=t.direction,
                                    pruner=pruner, load_if_exists=True)
    except (ImportError, ValueError, optuna.exceptions.StorageInternalError) as exc:
        raise FashionsegError(f"cannot open the study at {t.storage}: {exc}") from None
    if study.direction.name.lower() != t.direction:
        raise FashionsegError(f"study {t.study_name!r} at {t.storage} {study.direction.name.lower()}s; "
                              f"--direction {t.direction} would change it, use another --study-name")
    seed = t.base.seed + 7919 * worker + len(study.trials)
    study.sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(2, t.trials // 3)))
    return study


def centre_lr(t: Tuning, study: optuna.Study, iters: int, console: Console):
    """fastai's lr_find once per study (its valley kept in the study), the lr range centred on it."""
    from fashionseg.build.learner import build_learner

    lr = study.user_attrs.get("lr_find_valley")
    if lr is None:
        console.print(f"lr_find over {iters} mini-batches to centre the lr range")
        lr = lr_suggestions(build_learner(t.base).learn, iters, (valley,))["valley"]  # fastai's pick
        study.set_user_attr("lr_find_valley", lr)
    old = t.space.get("lr")
    half = (old.high / old.low) ** 0.5 if old and old.kind == "log" else 10.0
    t.space["lr"] = Dimension("lr", "log", lr / half, lr * half)
    console.print(f"lr_find valley {lr:.2e}: searching {t.space['lr']}")


def suggest(trial: optuna.Trial, dim: Dimension):
    if dim.kind == "choice":
        return trial.suggest_categorical(dim.name, list(dim.choices))
    if dim.kind == "int":
        return trial.suggest_int(dim.name, int(dim.low), int(dim.high))
    return trial.suggest_float(dim.name, dim.low, dim.high, log=dim.kind == "log")


def trial_recipe(base: Recipe, params: dict, number: int) -> Recipe:
    """The recipe of trial `number`: the base with the trial's settings, named after the trial."""
    named = base.override(**params).override(name=f"{base.name}-trial{number}",
                                             experiment=base.experiment or base.name)
    return as_run(named, check_recipe(named))


def run_trial(t: Tuning, trial: optuna.Trial) -> float:
    """Train the trial's run (or continue the stopped run of the killed trial it replaces) and return
    its last epoch's score; raises optuna.TrialPruned once a pruned run is written."""
    trial.set_user_attr("process", {"host": socket.gethostname(), "pid": os.getpid()})
    params = {name: suggest(trial, dim) for name, dim in t.space.items()}
    number = trial.user_attrs.get("resumes", trial.number)
    recipe = trial_recipe(t.base, params, number)
    stopped = resumable_run(t.tune_dir, recipe)
    cbs = [PruneTrial(trial, t.metric)]
    result = (resume_run(stopped, console=t.quiet, cbs=cbs) if stopped else
              run(recipe, runs_dir=t.tune_dir, console=t.quiet, cbs=cbs))
    trial.set_user_attr("run", result.run.path.name)
    learn = result.learner
    # the run folder's last epoch: a continued run may have had no epoch left to train (killed while reporting)
    value = float(result.run.read_csv("metrics.csv")[-1][t.metric])
    state = "pruned" if learn.pruned_after else "complete"
    result.run.write_json("trial.json", {"study": t.study_name, "storage": t.storage, "trial": trial.number,
                                         "state": state, "params": params, "metric": t.metric, "value": value,
                                         "pruned_after_epoch": learn.pruned_after})
    if learn.pruned_after:
        raise optuna.TrialPruned(f"pruned after epoch {learn.pruned_after}")
    return value


def counted(study: optuna.Study) -> int:
    """Trials that count towards --trials: all but killed ones (each replaced by a trial that continues it)."""
    return sum(not (tr.state == TrialState.FAIL and tr.user_attrs.get("killed")) for tr in study.trials)


@contextmanager
def locked(path: Path):
    """An exclusive lock on `path` among this machine's processes (the workers of one study)."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def next_trial(t: Tuning, study: optuna.Study) -> optuna.Trial | None:
    """A queued trial (one continuing a killed trial's run, already counted), else a new one while the study has
    fewer than `t.trials`; workers ask one at a time, so none overshoots."""
    with locked(t.tune_dir / "study.lock"):
        queued = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        return study.ask() if queued or counted(study) < t.trials else None


def replace_killed(study: optuna.Study, number: int):
    """Mark trial `number` killed (failed) and queue its settings again: the new trial continues its run."""
    trial = study.trials[number]
    storage = study._storage
    storage.set_trial_user_attr(trial._trial_id, "killed", True)
    if trial.state == TrialState.RUNNING:
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    study.enqueue_trial(trial.params, user_attrs={"resumes": trial.user_attrs.get("resumes", number)})


def replace_dead_trials(study: optuna.Study) -> list[int]:
    """Running trials whose worker on this machine is gone (a killed tune), replaced; their numbers."""
    host, dead = socket.gethostname(), []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        process = trial.user_attrs.get("process") or {}
        if process.get("host") == host and not pid_alive(process.get("pid", -1)):
            replace_killed(study, trial.number)
            dead.append(trial.number)
    return dead


def work(t: Tuning, worker: int = 0, console: Console | None = None) -> optuna.Study:
    """One worker: trials one after another until the study has `t.trials`; a failing trial is recorded
    and the next one starts; a stopped one (Ctrl-C, SIGTERM) is queued to continue, then the worker stops."""
    console = console or t.quiet
    study = open_study(t, worker)
    while (trial := next_trial(t, study)) is not None:
        try:
            study.tell(trial, run_trial(t, trial))
        except optuna.TrialPruned:
            study.tell(trial, state=TrialState.PRUNED)
        except KeyboardInterrupt:
            replace_killed(study, trial.number)
            raise
        except Exception as exc:  # one broken trial must not lose the study
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
            study.tell(trial, state=TrialState.FAIL)
        done = study.trials[trial.number]
        console.print(f"trial {trial.number} {done.state.name.lower()}: {t.metric} {done.value} {done.params}",
                      markup=False, highlight=False)
    return study


def tune(t: Tuning, console: Console, reproduce, workers: int = 1, worker_argv=None, lr_find_iters: int = 0
         ) -> optuna.Study:
    """Run the study with `workers` processes (this one, or the `worker_argv(i)` commands) under a live table
    of its trials, then report it; `reproduce(params)` is the command that trains a trial's settings again."""
    check_tuning(t)
    study = open_study(t)
    dead = replace_dead_trials(study)
    if dead:
        console.print(f"continuing study {t.study_name}: trials {dead} were killed and will be continued")
    if lr_find_iters:
        centre_lr(t, study, lr_find_iters, console)
    console.print(f"study {t.study_name!r}: {counted(study)} of {t.trials} trials so far, in {t.storage}")
    with Live(get_renderable=lambda: study_table(study, t.metric), console=console, refresh_per_second=1):
        if workers == 1:
            work(t, console=console)
        else:
            run_workers(t, workers, worker_argv)
    console.line()
    report(study, t, console, reproduce)
    return study


def report(study: optuna.Study, t: Tuning, console: Console, reproduce):
    """The study report; on the console the best trial, its test score (once, apart), the importances."""
    best = best_trial(study, t, reproduce)
    found = write_study_report(t.tune_dir, study, t.metric, best)
    console.print(f"study report: {t.tune_dir / 'study.md'}; optuna-dashboard {t.storage}")
    if best is None:
        console.print("[yellow]no trial completed[/]: see the failed trials' errors in the study report")
        return
    console.print(f"[bold]best trial {best['number']}[/]: {t.metric} {best['value']:.4f} with {best['params']}, "
                  f"run {t.tune_dir / best['run']}")
    if found:
        console.print("parameter importances: " + ", ".join(f"{k} {v:.2f}" for k, v in found.items()))
    console.print("test set of the best trial (reported once, never used to choose): " +
                  ", ".join(f"{k} {v:.4f}" for k, v in best["test"].items()))
    console.print("reproduce it with:")
    console.print(best["command"], markup=False, highlight=False, soft_wrap=True)


def best_trial(study: optuna.Study, t: Tuning, reproduce) -> dict | None:
    """The best completed trial: number, params, value, run, its scalar test metrics, the reproducing command."""
    from fashionseg.run_folders.summary import RunSummary

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    best = study.best_trial
    test = {k: v for k, v in RunSummary.read(t.tune_dir / best.user_attrs["run"]).test_metrics.items()
            if not k.startswith("valid_")}
    return {"number": best.number, "params": best.params, "value": best.value, "run": best.user_attrs["run"],
            "test": test, "command": reproduce(best.params)}


def run_workers(t: Tuning, workers: int, worker_argv):
    """`workers` worker processes on the study, each logging to worker-<i>.log beside the runs."""
    procs = []
    for i in range(workers):
        log = open(t.tune_dir / f"worker-{i}.log", "w")
        procs.append((subprocess.Popen(worker_argv(i), stdout=log, stderr=subprocess.STDOUT), log))
    try:
        for proc, log in procs:
            proc.wait()
            log.close()
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
    failed = [i for i, (proc, _) in enumerate(procs) if proc.returncode]
    if failed:
        raise FashionsegError(f"worker {failed[0]} stopped with exit code {procs[failed[0]][0].returncode}; "
                              f"see {t.tune_dir / f'worker-{failed[0]}.log'}")


def tuning_space(recipe: Recipe, items) -> dict[str, Dimension]:
    """The recipe's tune_space with --space items on top."""
    return parse_space(items, parse_space(recipe.tune_space))
