"""A short real training run and the run folder it writes."""
import csv
import json
import os
import re
import subprocess
import sys
import time

import pytest
import torch
from helpers.runs import fashion_recipe, train
from PIL import Image
from rich.console import Console

from fashionseg import FashionsegError, Recipe, create_model
from fashionseg.engine.trainer import run
from fashionseg.run_folders.folder import RunFolder


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, fashion_mnist_dir):
    recipe = Recipe(name="short", dataset="fashion-mnist", arch="seed000-cnn",
                    metrics=["accuracy", "per-class-accuracy"], epochs=2, lr=3e-3, bs=128, limit=4000,
                    valid="0.05")
    console = Console(record=True, width=120)
    result = run(recipe, runs_dir=tmp_path_factory.mktemp("runs"), console=console)
    return result, console.export_text()


@pytest.mark.slow
def test_loss_falls_and_accuracy_beats_chance_widely(short_run):
    result, _ = short_run
    losses = [float(v) for v in result.learner.recorder.losses]
    assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:10]) / 10
    assert result.results["accuracy"] > 0.7  # chance is 0.1
    assert set(result.results["per_class_accuracy"]) == {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
    assert 0.7 < result.results["valid_accuracy"] <= 1  # hold-out validation reported apart from test


@pytest.mark.slow
def test_run_folder_files_are_complete_and_parseable(short_run):
    folder = short_run[0].run.path
    config = json.loads((folder / "config.json").read_text())
    assert config["arch"] == "seed000-cnn" and config["epochs"] == 2
    with open(folder / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert float(rows[1]["valid_loss"]) < float(rows[0]["valid_loss"]) * 1.2
    metrics = json.loads((folder / "metrics.json").read_text())
    assert sum(map(sum, metrics["confusion_matrix"])) == 10000
    assert json.loads((folder / "status.json").read_text())["state"] == "finished"
    assert not list(folder.rglob("*.tmp"))  # atomic writes leave nothing behind


@pytest.mark.slow
def test_figures_are_valid_pngs_linked_from_the_report(short_run):
    folder = short_run[0].run.path
    report = (folder / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert {"figures/loss_curves.png", "figures/confusion_matrix.png", "figures/top_losses.png",
            "figures/first_conv_filters.png"} <= set(linked)
    for rel in linked:
        with Image.open(folder / rel) as im:
            im.verify()
            assert im.format == "PNG"
    assert "| Shirt" in report and "Most frequent confusions" in report


@pytest.mark.slow
def test_without_figures_the_report_has_its_tables_and_no_figure(tmp_path, fashion_mnist_dir):
    run = train(fashion_recipe().override(limit=256, eval_limit=64), tmp_path / "runs").run
    assert run.read_json("config.json")["figures"] is False  # helpers.runs.fashion_recipe: figures=False
    assert not list((run.path / "figures").iterdir()) and run.read_json("metrics.json")["figures"] == {}
    report = (run.path / "report.md").read_text()
    assert "![" not in report and "Most frequent confusions" in report and "| accuracy |" in report


@pytest.mark.slow
def test_weights_reload_as_state_dict_and_predict_the_same(short_run):
    result, _ = short_run
    model = RunFolder.open(result.run.path).load_weights(create_model("seed000-cnn", 10, 1))
    model.eval()
    trained = result.learner.model.eval()
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), trained(x), atol=1e-5)


@pytest.mark.slow
@pytest.mark.subprocess
def test_predict_a_classification_run_prints_its_top_classes(short_run, tmp_path, fashion_mnist_dir):
    from fashionseg.data import fashion_mnist

    raw = fashion_mnist.load()
    image = tmp_path / "trouser.png"
    Image.fromarray(raw["test_images"][2].numpy()).resize((56, 56)).save(image)  # test item 2 is a trouser
    assert int(raw["test_labels"][2]) == 1
    done = subprocess.run([sys.executable, "-m", "fashionseg.cli", "predict", str(short_run[0].run.path), str(image)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if "%" in line]
    assert len(rows) == 5 and "Trouser" in rows[0]  # top class first, a 56x56 image resized to the 28x28 input
    assert not list(tmp_path.glob("*_prediction.png"))  # classification draws no file


@pytest.mark.slow
def test_console_shows_epoch_table_and_per_class_report(short_run):
    text = short_run[1]
    assert "train_loss" in text and "valid_loss" in text
    assert "Per class (hardest marked)" in text and "<- hard" in text
    assert "Most frequent confusions" in text


def test_mismatched_task_fails_before_a_run_folder_is_made(tmp_path):
    from fashionseg.registry.components import Metric
    from fashionseg.registry.plugins import registry

    registry().components("metric")["seg-only"] = Metric("seg-only", lambda: None, task="segmentation", description="x")
    try:
        with pytest.raises(FashionsegError, match="is for segmentation"):
            run(Recipe(name="x", dataset="fashion-mnist", arch="basenet", metrics=["seg-only"]), runs_dir=tmp_path)
    finally:
        del registry().components("metric")["seg-only"]
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob("*"))


def test_a_model_that_breaks_at_build_time_leaves_no_folder(tmp_path, fashion_mnist_dir):
    recipe = Recipe(name="broken", dataset="fashion-mnist", arch="fmnist-fastnet", arch_options={"widths": (4, 4)})
    with pytest.raises(FashionsegError, match="rejected its options"):
        run(recipe, runs_dir=tmp_path, console=Console(quiet=True))
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


@pytest.mark.slow
def test_failed_run_keeps_its_folder_with_a_failed_status(tmp_path, fashion_mnist_dir):
    from fastai.callback.core import Callback

    class Explode(Callback):
        def after_batch(self):
            if self.training and self.iter == 2:
                raise RuntimeError("disk on fire")

    recipe = Recipe(name="broken", dataset="fashion-mnist", arch="basenet", epochs=1, limit=512, eval_limit=64)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run(recipe, runs_dir=tmp_path, console=Console(quiet=True), cbs=[Explode()])
    (folder,) = tmp_path.iterdir()
    status = json.loads((folder / "status.json").read_text())
    assert status["state"] == "failed" and "disk on fire" in status["error"]
    assert json.loads((folder / "config.json").read_text())["name"] == "broken"


@pytest.mark.slow
def test_fit_stopped_inside_its_first_epoch_still_reports_the_test_set(tmp_path, fashion_mnist_dir):
    """A time budget (bench/segmentation.py ablation) may stop training before any validation."""
    from fastai.callback.core import Callback, CancelFitException

    class StopAfterThreeBatches(Callback):
        def after_batch(self):
            if self.training:
                time.sleep(0.2)
                if self.iter == 2:
                    raise CancelFitException()

    recipe = Recipe(name="stopped", dataset="fashion-mnist", arch="basenet", metrics=["accuracy"],
                    epochs=1, bs=64, limit=1000, valid="0.1", eval_limit=500)
    result = run(recipe, runs_dir=tmp_path, console=Console(quiet=True), cbs=[StopAfterThreeBatches()])
    metrics = json.loads((result.run.path / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and "valid_loss" not in metrics
    assert metrics["timings"]["train_seconds"] >= 0.6  # the cut training phase is counted, not lost
    assert json.loads((result.run.path / "status.json").read_text())["state"] == "finished"
