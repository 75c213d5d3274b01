"""One RunSummary per run folder, read without torch: what `fashionseg runs`, `compare`, `sweep` and the
Python API all show of a run."""
import json
import subprocess
import sys

import pytest

from fashionseg import FashionsegError, Recipe, RunSummary


@pytest.fixture
def finished(tmp_path):
    folder = tmp_path / "runs" / "toy-20260101-000000"
    folder.mkdir(parents=True)
    config = Recipe(name="toy", dataset="fashion-mnist", arch="seed000-cnn", epochs=3, lr=3e-3).to_dict()
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "status.json").write_text(json.dumps({"state": "finished", "started": "2026-01-01T00:00:00+00:00"}))
    (folder / "metrics.csv").write_text("epoch,train_loss,valid_loss,accuracy,elapsed_seconds\n"
                                        "0,0.9,0.8,0.7,1.5\n1,0.6,0.5,0.81,3.0\n")
    (folder / "metrics.json").write_text(json.dumps({"accuracy": 0.8125, "test_loss": 0.51, "per_class": {"a": 1},
                                                     "figures": {"x": "figures/x.png"}}))
    return folder


def test_a_finished_run_reads_whole(finished):
    run = RunSummary.read(finished)
    assert (run.recipe, run.state, run.epochs_done, run.epochs) == ("toy", "finished", 2, 3)
    assert run.valid_loss == 0.5 and run.metric == "accuracy" and run.last_epoch["accuracy"] == 0.81
    assert run.test_metrics == {"accuracy": 0.8125, "test_loss": 0.51}  # single numbers only
    assert run.settings["lr"] == 3e-3 and run.started.startswith("2026-01-01")
    assert run.settings["loss"] == ""  # no data.json: the task, and so its default loss, is unknown
    (finished / "data.json").write_text(json.dumps({"task": "classification"}))
    assert RunSummary.read(finished).settings["loss"] == "cross-entropy"  # as newer runs record it
    assert json.loads(json.dumps(run.to_dict()))["metric_value"] == 0.81


def test_an_unfinished_run_has_no_test_metrics_and_a_broken_one_reads_leniently_for_listings(finished):
    (finished / "status.json").write_text(json.dumps({"state": "interrupted"}))
    assert RunSummary.read(finished).test_metrics == {}
    (finished / "config.json").write_text("{not json")
    with pytest.raises(FashionsegError, match="cannot read .*config.json"):
        RunSummary.read(finished)
    lenient = RunSummary.read(finished, strict=False)
    assert lenient.recipe is None and lenient.settings == {} and lenient.epochs_done == 2


@pytest.mark.subprocess
def test_runs_and_compare_show_the_same_summary(finished):
    listing = subprocess.run([sys.executable, "-m", "fashionseg.cli", "runs", str(finished.parent), "--json"],
                             capture_output=True, text=True, timeout=60)
    (row,) = json.loads(listing.stdout)
    run = RunSummary.read(finished)
    assert (row["state"], row["epochs_done"], row["valid_loss"], row["metric_value"]) == (
        run.state, run.epochs_done, run.valid_loss, run.last_epoch["accuracy"])
    from fashionseg.report.compare import compare

    table = compare([run])
    assert table.header[:4] == ["run", "state", "accuracy", "test_loss"] and table.rows[0][2] == 0.8125
