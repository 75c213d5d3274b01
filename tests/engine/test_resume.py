"""Resume: last.pth at every epoch end; a run killed (SIGKILL) or stopped (SIGTERM) and resumed ends
as the uninterrupted run does; replaying a run's config; a sweep continuing its interrupted variant."""
import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers.callbacks import StopInEpoch
from rich.console import Console

from fashionseg.callbacks.checkpoints import LAST
from fashionseg.cli import main
from fashionseg.engine.sweep import run_sweep
from fashionseg.engine.trainer import run
from fashionseg.registry.recipes import find_recipe

SETTINGS = ["--epochs", "3", "--schedule", "one-cycle", "--opt", "adam", "--limit", "500", "--eval-limit", "300",
            "--keep-best", "2", "--log-every", "2", "--no-figures"]
TRAIN = ["train", "seed000", *SETTINGS]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, fashion_mnist_dir):
    """The same short run, uninterrupted."""
    runs = tmp_path_factory.mktemp("reference")
    assert main([*TRAIN, "--runs-dir", str(runs)]) == 0
    return next(runs.iterdir())


def stop_after_first_epoch(runs_dirs: dict) -> dict:
    """Train in one subprocess per signal, all at once (each spends its first seconds importing torch), and
    send each its signal once its metrics.csv has its first row: {signal: (the process, its output)}."""
    procs = {sig: subprocess.Popen([sys.executable, "-m", "fashionseg", *TRAIN, "--runs-dir", str(runs_dir)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "COLUMNS": "200"})
             for sig, runs_dir in runs_dirs.items()}
    deadline = time.monotonic() + 120
    waiting = dict(runs_dirs)
    while waiting:
        for sig, runs_dir in list(waiting.items()):
            if any(len((p / "metrics.csv").read_text().splitlines()) >= 2
                   for p in runs_dir.glob("*") if (p / "metrics.csv").is_file()):
                procs[sig].send_signal(sig)
                del waiting[sig]
            else:
                assert procs[sig].poll() is None and time.monotonic() < deadline, procs[sig].stdout.read()
        time.sleep(0.02)
    return {sig: (proc, proc.communicate(timeout=120)[0]) for sig, proc in procs.items()}


@pytest.fixture(scope="module")
def stopped(tmp_path_factory, fashion_mnist_dir) -> dict:
    """{signal: (the process, its output, its runs folder)}: the short run killed (SIGKILL) or stopped (SIGTERM)
    in a subprocess after its first epoch. Each test resumes its own run folder."""
    runs_dirs = {sig: tmp_path_factory.mktemp(sig.name) for sig in (signal.SIGKILL, signal.SIGTERM)}
    return {sig: (proc, out, runs_dirs[sig]) for sig, (proc, out) in stop_after_first_epoch(runs_dirs).items()}


def results(folder) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def epochs(folder) -> list[int]:
    with open(folder / "metrics.csv") as f:
        return [int(r["epoch"]) for r in csv.DictReader(f)]


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_killed_run_resumed_ends_as_the_uninterrupted_run(reference, stopped):
    proc, _, runs_dir = stopped[signal.SIGKILL]
    assert proc.returncode == -signal.SIGKILL
    (folder,) = runs_dir.iterdir()
    assert main(["runs", str(runs_dir)]) == 0 and json.loads((folder / "status.json").read_text())["state"] == "running"
    assert main(["train", "--resume", str(folder)]) == 0
    assert json.loads((folder / "status.json").read_text())["state"] == "finished"
    for name in ("test_loss", "accuracy"):
        assert results(folder)[name] == pytest.approx(results(reference)[name], abs=1e-4)
    assert epochs(folder) == [0, 1, 2]  # each epoch once, the killed process's row kept
    with open(folder / "iterations.csv") as f:
        iterations = [int(r["iteration"]) for r in csv.DictReader(f)]
    assert iterations == sorted(set(iterations)) and iterations[-1] == 3 * 3  # 500 items, bs 128, last part dropped
    kept = json.loads((folder / "checkpoints.json").read_text())["checkpoints"]
    assert len(kept) == 2 and all((folder / e["file"]).is_file() for e in kept)
    assert not (folder / LAST).exists()  # a finished run keeps model.pth only


@pytest.mark.slow
@pytest.mark.subprocess
def test_sigterm_stops_after_the_batch_and_the_resume_command_continues_it(reference, stopped):
    proc, out, runs_dir = stopped[signal.SIGTERM]
    (folder,) = runs_dir.iterdir()
    status = json.loads((folder / "status.json").read_text())
    assert proc.returncode == 143 and status["state"] == "interrupted" and status["signal"] == "SIGTERM"
    assert status["resume"] == f"fashionseg train --resume {folder.resolve()}"
    assert status["resume"] in " ".join(out.split())
    state = torch.load(folder / LAST, weights_only=True)
    assert state["epochs_done"] >= 1 and set(state) >= {"model", "opt", "rng", "train_seconds", "best"}
    assert not (folder / "model.pth").exists()
    assert main(["train", "--resume", str(folder), "--epochs", str(state["epochs_done"] - 1)]) == 2
    assert main(shlex.split(status["resume"])[1:]) == 0
    assert results(folder)["accuracy"] == pytest.approx(results(reference)["accuracy"], abs=1e-4)
    assert epochs(folder) == [0, 1, 2]


@pytest.mark.slow
def test_resume_refuses_what_it_cannot_continue(reference, tmp_path, capsys):
    def error(*argv):
        assert main(list(argv)) == 2
        return capsys.readouterr().err

    assert "not a run folder" in error("train", "--resume", str(tmp_path))
    assert "finished; nothing to resume" in error("train", "--resume", str(reference))
    assert "only --epochs may change (got --lr)" in error("train", "--resume", str(reference), "--lr", "0.1")
    stopped = tmp_path / "stopped"
    stopped.mkdir()
    (stopped / "config.json").write_text((reference / "config.json").read_text())
    (stopped / "status.json").write_text(json.dumps({"state": "interrupted"}))
    assert "last.pth is missing" in error("train", "--resume", str(stopped))
    (stopped / LAST).write_bytes(b"not a checkpoint")
    assert f"cannot resume from {stopped / LAST}" in error("train", "--resume", str(stopped))
    torch.save({"weights": torch.zeros(1)}, stopped / LAST)
    assert "not a fashionseg last.pth" in error("train", "--resume", str(stopped))
    foreign = {"epochs_done": 1, "opt": {}, "rng": {}, "train_seconds": 0.0, "best": [], "model": {"x": torch.zeros(1)}}
    torch.save(foreign, stopped / LAST)
    assert "does not fit the model" in error("train", "--resume", str(stopped))
    alive = {"state": "running", "pid": os.getpid(), "host": os.uname().nodename}
    (stopped / "status.json").write_text(json.dumps(alive))
    assert "still running" in error("train", "--resume", str(stopped))


@pytest.mark.slow
def test_a_run_config_replays_exactly_and_from_takes_overrides(reference, tmp_path):
    assert main(["train", str(reference / "config.json"), "--runs-dir", str(tmp_path / "replay")]) == 0
    (replay,) = (tmp_path / "replay").iterdir()
    assert json.loads((replay / "config.json").read_text()) == json.loads((reference / "config.json").read_text())
    assert results(replay)["accuracy"] == pytest.approx(results(reference)["accuracy"], abs=1e-4)
    assert main(["train", "--from", str(reference), "--epochs", "1", "--lr", "0.01",
                 "--runs-dir", str(tmp_path / "from")]) == 0
    (again,) = (tmp_path / "from").iterdir()
    config = json.loads((again / "config.json").read_text())
    assert config == {**json.loads((reference / "config.json").read_text()), "epochs": 1, "lr": 0.01}


@pytest.mark.slow
def test_a_sweep_resumes_its_interrupted_variant(tmp_path, fashion_mnist_dir):
    base = find_recipe("seed000").override(epochs=2, limit=300, eval_limit=200)
    variant = base.override(name="seed000-base", experiment="seed000")  # as the sweep makes its single variant
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        run(variant, runs_dir=tmp_path, console=Console(quiet=True), cbs=[StopInEpoch(1)])
    assert signal.getsignal(signal.SIGINT) is handler  # the run's handlers are gone after it
    (stopped,) = tmp_path.iterdir()
    assert json.loads((stopped / "status.json").read_text())["state"] == "interrupted"
    (v,) = run_sweep(base, {"lr": ["0.001"]}, tmp_path, Console(quiet=True))
    assert v.state == "resumed and finished" and v.run == stopped and epochs(stopped) == [0, 1]
