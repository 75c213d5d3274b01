"""Output to a pipe or a file is never wrapped at 80 columns: table rows and paths stay whole lines."""
import json
import os
import subprocess
import sys

import pytest

from fashionseg import Recipe


def finished_run(folder, lr):
    folder.mkdir(parents=True)
    config = Recipe(name="same-name", dataset="fashion-mnist", arch="seed000-cnn", lr=lr).to_dict()
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "status.json").write_text(json.dumps({"state": "finished"}))
    (folder / "metrics.json").write_text(json.dumps({"accuracy": 0.9 + lr, "test_loss": 0.25}))


@pytest.mark.subprocess
def test_compare_into_a_pipe_prints_long_paths_whole(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-for-experiments-" * 3)
    runs = [deep / "sweep-one" / "same-name-20260101-000000", deep / "sweep-two" / "same-name-20260101-000000"]
    for run, lr in zip(runs, (1e-3, 3e-3)):
        finished_run(run, lr)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run([sys.executable, "-m", "fashionseg.cli", "compare", *map(str, runs)], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for run in runs:  # the same folder name under two parents: the table names each by its whole path
        assert any(str(run) in line for line in lines), done.stdout
    assert max(map(len, lines)) > 80  # a row as wide as it needs, not folded at the pipe's default width


def test_a_terminal_keeps_its_width(monkeypatch):
    from fashionseg.utils.console import UNWRAPPED, console

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert console().width == UNWRAPPED
    monkeypatch.setenv("COLUMNS", "90")
    assert console().width == 90
