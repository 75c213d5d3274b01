"""Experiment trackers a recipe asks for with `track` (--track mlflow,wandb,tensorboard): rank 0 logs the
run's settings, every epoch's row of metrics.csv and the final test metrics; how the run ended
closes the tracker's run (finished, failed, killed). Each tracker is an optional extra package."""
from __future__ import annotations

import importlib.util
import os
import re
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from fastai.callback.core import Callback

from .callbacks import EpochCSV
from .errors import FashionsegError
from .rank import is_main
from .recipe import flat_settings
from .report import scalar_metrics
from .runfolder import RunFolder

RECORD = "trackers.json"  # the tracker runs' ids, so that a resumed run continues them
ARTIFACTS = ("report.md", "metrics.json", "config.json", "data.json", "metrics.csv", "iterations.csv")


def check_trackers(names) -> None:
    """Every tracker asked for is installed (its package and its extra share its name); checked before any
    run folder exists."""
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise FashionsegError(f"--track {name} needs {name}: pip install 'fashionseg[{name}]'")


class Tracker(Callback):
    """A tracker's fastai callback that also hears how the whole run ended (test set and report included)."""

    def end(self, status: str):
        """`status`: FINISHED, FAILED or KILLED (MLflow's run states)."""
        raise NotImplementedError


@contextmanager
def tracking(folder: RunFolder, built, state: dict | None = None):
    """The recipe's trackers attached to `built.learn` for one run (on rank 0 only), continuing the run's
    tracker runs when resuming from `state` (its last.pth); each is ended with how the run ended:
    finished, failed, or killed (interrupted by a signal or Ctrl-C)."""
    names = built.recipe.track if is_main() else []
    cbs = [cb for name in names for cb in tracker_callbacks(name, folder, built, state)]
    built.learn.add_cbs(cbs)
    try:
        yield
    except BaseException as exc:
        end_all(cbs, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    end_all(cbs, "FINISHED")


def end_all(cbs: list[Callback], status: str):
    """End every tracker; one that fails warns, so it neither hides the run's own error nor fails a finished run."""
    for cb in cbs:
        if isinstance(cb, Tracker):
            try:
                cb.end(status)
            except Exception as exc:
                warnings.warn(f"{type(cb).__name__} could not end its run: {type(exc).__name__}: {exc}", stacklevel=2)


def tracker_callbacks(name: str, folder: RunFolder, built, state: dict | None) -> list[Callback]:
    if name == "mlflow":
        tracker = MlflowTracker(folder, built, resume=state is not None)
        return [tracker, MlflowEpochs(tracker)]
    if name == "wandb":
        from .wandb_log import WandbLog

        return [WandbRun(folder, built, resume=state is not None), WandbLog(state["epochs_done"] if state else 0)]
    return [tensorboard_callback(folder)]


def tensorboard_callback(folder: RunFolder):
    """fastai's TensorBoardCallback writing event files into the run's tensorboard/ folder."""
    from fastai.callback.tensorboard import TensorBoardCallback

    return TensorBoardCallback(log_dir=str(folder.path / "tensorboard"), trace_model=False, log_preds=False)


def in_fit_only(cb: Callback) -> bool:
    """False (and the callback sits out) during `lr_find` and `get_preds`, which raise fit events too."""
    cb.run = not (hasattr(cb.learn, "lr_finder") or hasattr(cb.learn, "gather_preds"))
    return cb.run


def record(folder: RunFolder, name: str, info: dict | None = None) -> dict:
    """The tracker's saved ids from trackers.json; with `info`, saves them first."""
    saved = folder.read_json(RECORD) if (folder.path / RECORD).is_file() else {}
    if info is not None:
        saved[name] = info
        folder.write_json(RECORD, saved)
    return saved.get(name, {})


def run_params(built) -> dict:
    """What a tracker records as the run's parameters: the recipe, the data's summary, the components' plugins."""
    data = {f"data.{k}": v for k, v in built.data.summary().items() if k not in ("colors", "stats")}
    plugins = {f"plugin.{k.replace(' ', '.')}": v for k, v in built.parts.plugins().items()}
    n_params = sum(p.numel() for p in built.learn.model.parameters())
    return {**flat_settings(built.recipe.to_dict()), **data, **plugins, "model.parameters": n_params}


def test_metrics(folder: RunFolder) -> dict[str, float]:
    """The final scalar metrics from metrics.json as test_<name> (valid_* ones are the last epoch's, logged already)."""
    if not (folder.path / "metrics.json").is_file():
        return {}
    results = scalar_metrics(folder.read_json("metrics.json"))
    return {k if k.startswith("test_") else f"test_{k}": float(v) for k, v in results.items()
            if not k.startswith("valid_")}


def experiment_name(recipe) -> str:
    """The recipe's `experiment`, else its name."""
    return recipe.experiment or recipe.name


def mlflow_uri(folder: RunFolder) -> str | None:
    """$MLFLOW_TRACKING_URI when set (None: MLflow reads it), else a SQLite file beside the run folder."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    return f"sqlite:///{(folder.path.parent / 'mlflow.db').resolve()}"


class MlflowTracker(Tracker):
    """Logs to MLflow through its client: params once, each new metrics.csv row with step=epoch, then the
    test metrics and the run's files as artifacts; the MLflow run's status follows the run's end.

    Our own callback because MLflow 3 has no fastai flavour (`mlflow.fastai` and its autolog are gone),
    and the explicit client keeps no global active run, so sweeps and resumed runs reopen exactly theirs.
    """

    order = 0  # opens the MLflow run before the run's clocks start (a new SQLite store takes seconds)

    def __init__(self, folder: RunFolder, built, resume: bool = False):
        self.folder, self.built, self.resume = folder, built, resume
        self.client = self.run_id = None

    def before_fit(self):
        if not in_fit_only(self) or self.run_id is not None:
            return
        from mlflow import MlflowClient

        saved = record(self.folder, "mlflow") if self.resume else {}
        self.client = MlflowClient(saved.get("tracking_uri") or mlflow_uri(self.folder))
        if saved:
            self.run_id = saved["run_id"]
            self.client.update_run(self.run_id, status="RUNNING")
            self.logged = max((m.step for m in self.client.get_metric_history(self.run_id, "train_loss")), default=-1)
        else:
            tags = {"fashionseg.run_folder": str(self.folder.path.resolve())}
            created = self.client.create_run(self.experiment(), run_name=self.folder.path.name, tags=tags)
            self.run_id = created.info.run_id
            record(self.folder, "mlflow", {"run_id": self.run_id, "tracking_uri": self.client.tracking_uri})
            self.logged = -1
        self.log_params(run_params(self.built))

    def experiment(self) -> str:
        """The experiment's id ($MLFLOW_EXPERIMENT_NAME, else `experiment_name`), created when new; with the
        default SQLite store its artifacts go to mlartifacts/ beside it, not to the working folder."""
        from mlflow.exceptions import MlflowException

        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or experiment_name(self.built.recipe)
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        local = self.client.tracking_uri.startswith("sqlite:///") and mlflow_uri(self.folder) is not None
        location = (self.folder.path.parent / "mlartifacts").resolve().as_uri() if local else None
        try:
            return self.client.create_experiment(name, artifact_location=location)
        except MlflowException:  # another process created it meanwhile
            return self.client.get_experiment_by_name(name).experiment_id

    def log_params(self, params: dict):
        """New params; a resumed run keeps its first values and records a changed one (say epochs) as a tag."""
        from mlflow.entities import Param, RunTag

        old = self.client.get_run(self.run_id).data.params
        values = {k: str(v)[:1000] for k, v in params.items()}
        new = [Param(k, v) for k, v in values.items() if k not in old]
        changed = [RunTag(f"changed.{k}", v) for k, v in values.items() if k in old and old[k] != v]
        self.client.log_batch(self.run_id, params=new, tags=changed)

    def log_epochs(self):
        """metrics.csv rows not logged yet, each column a metric at step=epoch."""
        from mlflow.entities import Metric

        rows = [r for r in self.folder.read_csv("metrics.csv") if r["epoch"] > self.logged]
        now = int(time.time() * 1000)
        metrics = [Metric(metric_key(k), float(v), now, r["epoch"]) for r in rows for k, v in r.items()
                   if k != "epoch" and isinstance(v, (int, float))]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)
            self.logged = rows[-1]["epoch"]

    def end(self, status: str):
        if self.run_id is None:
            return
        from mlflow.entities import Metric

        self.log_epochs()
        if status == "FINISHED":
            now = int(time.time() * 1000)
            finals = [Metric(metric_key(k), v, now, 0) for k, v in test_metrics(self.folder).items()]
            self.client.log_batch(self.run_id, metrics=finals)
        for name in ARTIFACTS:
            if (self.folder.path / name).is_file():
                self.client.log_artifact(self.run_id, str(self.folder.path / name))
        figures = self.folder.path / "figures"
        if figures.is_dir() and any(figures.iterdir()):
            self.client.log_artifacts(self.run_id, str(figures), "figures")
        self.client.set_terminated(self.run_id, status)


class MlflowEpochs(Callback):
    """Hands each epoch's new metrics.csv row to its MlflowTracker."""

    order = EpochCSV.order + 1  # after the epoch's row is in metrics.csv

    def __init__(self, tracker: MlflowTracker):
        self.tracker = tracker

    def after_epoch(self):
        if self.tracker.run_id is not None:
            self.tracker.log_epochs()


def metric_key(name: str) -> str:
    """A metric name MLflow accepts (letters, digits, _ - . space /)."""
    return re.sub(r"[^\w\-. /]", "_", name)


class WandbRun(Tracker):
    """Opens the W&B run that fastai's own WandbCallback logs to, offline unless $WANDB_MODE says otherwise,
    its files in the run folder's wandb/ (a resumed run: another offline-run folder with the same id);
    ends it with the test metrics in its summary."""

    order = 0  # before WandbCallback, which needs the run open

    def __init__(self, folder: RunFolder, built, resume: bool = False):
        self.folder, self.built, self.resume, self.session = folder, built, resume, None

    def before_fit(self):
        if not in_fit_only(self) or self.session is not None:
            return
        import wandb

        saved = record(self.folder, "wandb") if self.resume else {}
        settings = wandb.Settings(console="off", save_code=False, disable_git=True, x_disable_stats=True, silent=True)
        project = os.environ.get("WANDB_PROJECT") or experiment_name(self.built.recipe)
        self.session = wandb.init(dir=str(self.folder.path), project=project, name=self.folder.path.name,
                                  id=saved.get("id"), resume="allow" if saved else None,
                                  mode=os.environ.get("WANDB_MODE", "offline"), config=run_params(self.built),
                                  settings=settings)
        record(self.folder, "wandb", {"id": self.session.id, "dir": str(Path(self.session.dir).parent)})

    def end(self, status: str):
        if self.session is None:
            return
        if status == "FINISHED":
            self.session.summary.update(test_metrics(self.folder))
        self.session.finish(exit_code=0 if status == "FINISHED" else 1)
