"""MLflow tracking (`--track mlflow`): the run's settings, every epoch's row of metrics.csv, the final test
metrics and the run's files as artifacts."""
from __future__ import annotations

import os
import re
import time

from fastai.callback.core import Callback

from fashionseg.callbacks.core import ORDER
from fashionseg.run_folders.folder import RunFolder
from fashionseg.trackers.base import ARTIFACTS, Tracker, experiment_name, in_fit_only, record, run_params, test_metrics


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

    order = ORDER["MlflowTracker"]

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

    order = ORDER["MlflowEpochs"]

    def __init__(self, tracker: MlflowTracker):
        self.tracker = tracker

    def after_epoch(self):
        if self.tracker.run_id is not None:
            self.tracker.log_epochs()


def metric_key(name: str) -> str:
    """A metric name MLflow accepts (letters, digits, _ - . space /)."""
    return re.sub(r"[^\w\-. /]", "_", name)
