"""`fashionseg runs`: every run folder with its state, progress and last scores."""
import argparse
import json
import os
import socket
import subprocess
import sys
from datetime import datetime

import pytest

from fashionseg import FashionsegError
from fashionseg.commands import runs as runs_command
from fashionseg.run_folders.folder import RunFolder

HEADER = ["epoch", "train_loss", "valid_loss", "accuracy", "elapsed_seconds", "train_seconds", "lr"]


def make_run(runs_dir, name, status: dict, epochs_done: int, planned: int = 3):
    run = RunFolder(runs_dir / name)
    run.write_json("config.json", {"name": name.split("/")[-1].rsplit("-", 1)[0], "epochs": planned})
    run.write_json("status.json", {"started": "2025-01-01T12:00:00+00:00", **status})
    if epochs_done:
        run.write_csv("metrics.csv", HEADER, [[e, 0.5, 0.4 - e / 10, 0.8 + e / 100, e + 1.0, e + 0.5, 3e-05]
                                              for e in range(epochs_done)])
    os.utime(run.path / "config.json", (len(list(runs_dir.glob("**/config.json"))),) * 2)  # creation order


@pytest.fixture
def runs_dir(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here, now = socket.gethostname(), datetime.now().astimezone().isoformat()
    make_run(tmp_path, "done-1", {"state": "finished"}, 3)
    make_run(tmp_path, "live-2", {"state": "running", "pid": os.getpid(), "host": here, "updated": now}, 1)
    make_run(tmp_path, "killed-3", {"state": "running", "pid": dead.pid, "host": here, "updated": now}, 2)
    make_run(tmp_path, "sweep-x/broken-4", {"state": "failed", "error": "ValueError: x"}, 0)
    (tmp_path / "sweep-x" / "ablation.md").write_text("# not a run")
    return tmp_path


def runs(capsys, *argv):
    sub = argparse.ArgumentParser().add_subparsers()
    runs_command.add_parser(sub)
    args = sub.choices["runs"].parse_args(list(argv))
    args.func(args)
    return capsys.readouterr().out


def test_json_lists_each_run_with_state_progress_and_scores(capsys, runs_dir):
    listed = json.loads(runs(capsys, str(runs_dir), "--json"))
    assert [(r["name"], r["recipe"], r["state"], r["epochs_done"], r["epochs"]) for r in listed] == [
        ("done-1", "done", "finished", 3, 3), ("live-2", "live", "running", 1, 3),
        ("killed-3", "killed", "died", 2, 3), ("sweep-x/broken-4", "broken", "failed", 0, 3)]
    done = listed[0]
    assert (done["valid_loss"], done["metric"], done["metric_value"]) == pytest.approx((0.2, "accuracy", 0.82))
    assert done["started"] == "2025-01-01T12:00:00+00:00" and done["folder"] == str(runs_dir / "done-1")


def test_piped_output_is_plain_tab_separated_rows(capsys, runs_dir):
    lines = runs(capsys, str(runs_dir)).splitlines()
    assert lines[0].split("\t") == ["name", "recipe", "state", "epochs", "valid loss", "metric", "started", "folder"]
    assert lines[3].split("\t") == ["killed-3", "killed", "died", "2/3", "0.3000", "accuracy 0.8100",
                                    "2025-01-01 12:00", str(runs_dir / "killed-3")]
    assert lines[4].split("\t")[:6] == ["sweep-x/broken-4", "broken", "failed", "0/3", "-", "-"]


def test_a_terminal_gets_a_table_that_never_breaks_a_name(capsys, monkeypatch, runs_dir):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "90")
    out = runs(capsys, str(runs_dir))
    assert all(word in out for word in ("sweep-x/broken-4", "killed-3", "died", "finished", "0.2000"))


def test_the_runs_folder_defaults_to_the_environment(capsys, monkeypatch, runs_dir):
    monkeypatch.setenv("FASHIONSEG_RUNS", str(runs_dir))
    assert len(runs(capsys).splitlines()) == 5
    monkeypatch.setenv("FASHIONSEG_RUNS", str(runs_dir / "nowhere"))
    with pytest.raises(FashionsegError, match="no runs folder at .*nowhere"):
        runs(capsys)
