"""--track: MLflow's local SQLite store read back (params, one value per epoch equal to metrics.csv, test
metrics, artifacts, the run's end as its status, a resumed run continued); W&B offline; missing packages."""
import importlib.util
import json
from pathlib import Path

import pytest
from fastai.callback.core import Callback
from rich.console import Console

from fashionseg.cli import build_parser, main
from fashionseg.engine.trainer import resume_run, run
from fashionseg.errors import FashionsegError
from fashionseg.recipe.schema import Recipe
from fashionseg.registry.recipes import find_recipe
from fashionseg.run_folders.folder import RunFolder

mlflow = pytest.importorskip("mlflow")

TINY = ["--epochs", "2", "--limit", "256", "--eval-limit", "128"]


@pytest.fixture(autouse=True)
def local_trackers(monkeypatch, tmp_path):
    """No tracker settings from the environment; the working folder is a fresh one (nothing may land there)."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "WANDB_MODE", "WANDB_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def client(runs_dir):
    return mlflow.MlflowClient(f"sqlite:///{runs_dir / 'mlflow.db'}")


def mlflow_run(runs_dir, folder):
    run_id = json.loads((folder / "trackers.json").read_text())["mlflow"]["run_id"]
    return client(runs_dir).get_run(run_id)


def history(runs_dir, run_id, key) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client(runs_dir).get_metric_history(run_id, key))


def csv_history(folder, key) -> list[tuple[int, float]]:
    return [(r["epoch"], pytest.approx(r[key])) for r in RunFolder(folder).read_csv("metrics.csv")]


def tiny(**changes) -> Recipe:
    return find_recipe("seed000").override(**{**dict(epochs=2, limit=256, eval_limit=128, track="mlflow"), **changes})


class FailInEpoch(Callback):
    """`error` raised at the first batch of the given epoch."""

    def __init__(self, epoch, error):
        self.at, self.error = epoch, error

    def after_batch(self):
        if self.epoch == self.at:
            raise self.error


@pytest.mark.slow
def test_mlflow_records_params_epochs_test_metrics_and_files(tmp_path, fashion_mnist_dir):
    runs = tmp_path / "runs"
    assert main(["train", "seed000", *TINY, "--track", "mlflow", "--runs-dir", str(runs)]) == 0
    (folder,) = [p for p in runs.iterdir() if p.is_dir() and p.name.startswith("seed000-")]
    logged = mlflow_run(runs, folder)
    config, results = (json.loads((folder / f).read_text()) for f in ("config.json", "metrics.json"))
    assert logged.info.status == "FINISHED" and logged.info.run_name == folder.name
    assert client(runs).get_experiment(logged.info.experiment_id).name == "seed000"
    params = logged.data.params
    assert (params["lr"], params["arch"], params["epochs"]) == (str(config["lr"]), config["arch"], "2")
    assert params["data.n_train"] == "256" and int(params["model.parameters"]) > 0
    for key in ("train_loss", "valid_loss", "accuracy"):
        assert history(runs, logged.info.run_id, key) == csv_history(folder, key)
    assert logged.data.metrics["test_accuracy"] == pytest.approx(results["accuracy"])
    assert logged.data.metrics["test_loss"] == pytest.approx(results["test_loss"])
    artifacts = {a.path for a in client(runs).list_artifacts(logged.info.run_id)}
    assert {"report.md", "metrics.json", "config.json", "figures"} <= artifacts
    assert (runs / "mlartifacts").is_dir() and not (tmp_path / "mlruns").exists()


@pytest.mark.slow
def test_an_interrupted_run_is_killed_in_mlflow_and_resuming_continues_it(tmp_path, fashion_mnist_dir):
    runs = tmp_path / "runs"
    with pytest.raises(KeyboardInterrupt):
        run(tiny(), runs_dir=runs, console=Console(quiet=True), cbs=[FailInEpoch(1, KeyboardInterrupt())])
    (folder,) = [p for p in runs.iterdir() if p.name.startswith("seed000-")]
    stopped = mlflow_run(runs, folder)
    assert stopped.info.status == "KILLED" and [s for s, _ in history(runs, stopped.info.run_id, "valid_loss")] == [0]
    resume_run(folder, console=Console(quiet=True), epochs=3)
    resumed = mlflow_run(runs, folder)
    assert resumed.info.run_id == stopped.info.run_id and resumed.info.status == "FINISHED"
    assert history(runs, resumed.info.run_id, "valid_loss") == csv_history(folder, "valid_loss")
    assert [s for s, _ in history(runs, resumed.info.run_id, "valid_loss")] == [0, 1, 2]  # each epoch once
    assert resumed.data.params["epochs"] == "2" and resumed.data.tags["changed.epochs"] == "3"
    assert len(client(runs).search_runs([resumed.info.experiment_id])) == 1


@pytest.mark.slow
def test_a_failed_run_is_failed_in_mlflow(tmp_path, fashion_mnist_dir):
    runs = tmp_path / "runs"
    with pytest.raises(RuntimeError, match="boom"):
        run(tiny(), runs_dir=runs, console=Console(quiet=True), cbs=[FailInEpoch(0, RuntimeError("boom"))])
    (folder,) = [p for p in runs.iterdir() if p.name.startswith("seed000-")]
    assert mlflow_run(runs, folder).info.status == "FAILED"


@pytest.mark.slow
def test_mlflow_tracking_uri_from_the_environment(tmp_path, monkeypatch, fashion_mnist_dir):
    store = tmp_path / "elsewhere.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "mine")
    runs = tmp_path / "runs"
    run(tiny(epochs=1), runs_dir=runs, console=Console(quiet=True))
    assert not (runs / "mlflow.db").exists()
    found = mlflow.MlflowClient(f"sqlite:///{store}").get_experiment_by_name("mine")
    assert len(mlflow.MlflowClient(f"sqlite:///{store}").search_runs([found.experiment_id])) == 1


@pytest.mark.slow
def test_wandb_logs_offline_into_the_run_folder_and_a_resumed_run_keeps_its_id(tmp_path, fashion_mnist_dir):
    pytest.importorskip("wandb")
    runs = tmp_path / "runs"
    with pytest.raises(KeyboardInterrupt):
        run(tiny(track="wandb"), runs_dir=runs, console=Console(quiet=True), cbs=[FailInEpoch(1, KeyboardInterrupt())])
    (folder,) = runs.iterdir()
    first = json.loads((folder / "trackers.json").read_text())["wandb"]
    assert first["dir"].startswith(str(folder / "wandb" / "offline-run-"))
    resume_run(folder, console=Console(quiet=True))
    again = json.loads((folder / "trackers.json").read_text())["wandb"]
    assert again["id"] == first["id"] and again["dir"] != first["dir"]
    for info in (first, again):
        assert (Path(info["dir"]) / f"run-{info['id']}.wandb").stat().st_size > 0
    assert json.loads((folder / "status.json").read_text())["state"] == "finished"


@pytest.mark.parametrize("tracker", ["mlflow", "wandb", "tensorboard"])
def test_a_missing_tracker_package_is_one_line_before_any_run_folder(tracker, tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == tracker else real(name, *a))
    runs = tmp_path / "runs"
    assert main(["train", "seed000", *TINY, "--track", tracker, "--runs-dir", str(runs)]) == 2
    assert capsys.readouterr().err.strip() == (f"error: --track {tracker} needs {tracker}: "
                                               f"pip install 'fashionseg[{tracker}]'")
    assert not runs.exists()


def test_track_is_a_list_of_known_trackers():
    args = build_parser().parse_args(["train", "x", "--track", "mlflow,wandb"])
    assert args.track == "mlflow,wandb"
    recipe = Recipe(name="x", dataset="d", arch="a").override(track=args.track)
    assert recipe.track == ["mlflow", "wandb"]
    assert Recipe(name="x", dataset="d", arch="a", track="tensorboard").track == ["tensorboard"]
    with pytest.raises(FashionsegError, match="track takes mlflow, wandb, tensorboard, not 'neptune'"):
        Recipe(name="x", dataset="d", arch="a", track="mlflow,neptune")


def test_a_config_from_before_track_keeps_its_tensorboard_choice():
    old = {**Recipe(name="x", dataset="d", arch="a").to_dict(), "tensorboard": True}
    del old["track"]
    assert Recipe.from_dict(old).track == ["tensorboard"]
    assert Recipe.from_dict({**old, "tensorboard": False}).track == []


def test_a_sweeps_variants_share_one_experiment():
    from fashionseg.engine.sweep import grid

    base = Recipe(name="base", dataset="d", arch="a", track=["mlflow"])
    assert [v.recipe.experiment for v in grid(base, {"lr": ["0.1", "0.01"]})] == ["base", "base"]
    assert {v.recipe.experiment for v in grid(base.override(experiment="mine"), {"lr": ["0.1", "0.01"]})} == {"mine"}
