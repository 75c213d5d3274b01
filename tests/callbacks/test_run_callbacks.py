"""The run's writers on a tiny fastai Learner: epoch and iteration CSVs, the training clock, the heartbeat,
and a killed run resumed without rewriting its history."""
import os

import pytest
import torch
from fastai.callback.progress import ProgressCallback
from fastai.callback.schedule import fit_one_cycle  # noqa: F401  (patches Learner)
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy
from torch.utils.data import TensorDataset

from fashionseg.callbacks.clock import Heartbeat, TrainClock
from fashionseg.callbacks.logs import EpochCSV, IterationLog
from fashionseg.run_folders.folder import RunFolder
from fashionseg.run_folders.state import run_state

PER_EPOCH = 6  # 48 training items in batches of 8


def tiny_learner(cbs) -> Learner:
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long()
    dls = DataLoaders.from_dsets(TensorDataset(x[:48], y[:48]), TensorDataset(x[48:], y[48:]), bs=8, device="cpu",
                                 num_workers=0)  # no worker processes forked each epoch: the batches are the same
    learn = Learner(dls, torch.nn.Linear(4, 2), loss_func=CrossEntropyLossFlat(), metrics=accuracy, cbs=cbs)
    learn.remove_cb(ProgressCallback)
    learn.logger = lambda *_: None
    return learn


def writers(run, resume=False, start_seconds=0.0):
    return [TrainClock(start_seconds), EpochCSV(run, resume=resume), IterationLog(run, every=4, resume=resume),
            Heartbeat(run)]


def test_a_fresh_fit_writes_cumulative_times_and_exact_learning_rates(tmp_path):
    run = RunFolder(tmp_path)
    run.write_csv("metrics.csv", ["old"], [["history of another fit"]])
    tiny_learner(writers(run)).fit(3, 3e-5)
    rows = run.read_csv("metrics.csv")
    assert list(rows[0]) == ["epoch", "train_loss", "valid_loss", "accuracy", "elapsed_seconds", "train_seconds", "lr"]
    assert [r["epoch"] for r in rows] == [0, 1, 2]  # a fresh fit starts the file over
    elapsed = [r["elapsed_seconds"] for r in rows]
    assert elapsed == sorted(elapsed) and all(r["train_seconds"] <= r["elapsed_seconds"] for r in rows)
    assert b",3e-05\r\n" in (tmp_path / "metrics.csv").read_bytes()
    iterations = run.read_csv("iterations.csv")
    assert [r["iteration"] for r in iterations] == [4, 8, 12, 16, 18]
    assert iterations[0]["lr"] == 3e-05


def test_the_heartbeat_says_how_far_a_live_run_got(tmp_path):
    run = RunFolder(tmp_path)
    tiny_learner([Heartbeat(run)]).fit(2)
    status = run.read_json("status.json")
    assert (status["state"], status["epochs_done"], status["epochs"], status["pid"]) == ("running", 2, 2, os.getpid())
    assert run_state(tmp_path) == "running"


def test_the_heartbeat_sits_out_predictions_after_training(tmp_path):
    run = RunFolder(tmp_path)
    learn = tiny_learner([Heartbeat(run)])
    learn.fit(1)
    run.status("finished")
    learn.get_preds()
    assert run_state(tmp_path) == "finished"


def test_a_resumed_run_continues_its_history_without_rewriting_it(tmp_path):
    run = RunFolder(tmp_path)
    tiny_learner(writers(run)).fit(2, 1e-2)
    epochs_before = (tmp_path / "metrics.csv").read_bytes()
    iterations_before = (tmp_path / "iterations.csv").read_bytes()
    recorded = run.read_csv("metrics.csv")[-1]
    # a new process would load the checkpoint of epoch 1 and go on from epoch 2
    learn = tiny_learner(writers(run, resume=True, start_seconds=recorded["train_seconds"]))
    learn.fit(4, 1e-2, start_epoch=2)
    assert (tmp_path / "metrics.csv").read_bytes().startswith(epochs_before)
    assert (tmp_path / "iterations.csv").read_bytes().startswith(iterations_before)
    rows = run.read_csv("metrics.csv")
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3]
    assert rows[2]["elapsed_seconds"] > recorded["elapsed_seconds"]
    assert rows[2]["train_seconds"] > recorded["train_seconds"]
    assert learn.train_seconds == pytest.approx(rows[3]["train_seconds"], abs=1e-3)
    iterations = [r["iteration"] for r in run.read_csv("iterations.csv")]
    assert iterations == [4, 8, 12, 16, 20, 24]  # 4 * PER_EPOCH iterations, counted on
    assert run.read_json("status.json")["epochs_done"] == 4


def test_a_resume_from_an_older_checkpoint_keeps_the_recorded_rows(tmp_path):
    run = RunFolder(tmp_path)
    tiny_learner(writers(run)).fit(3)
    before = (tmp_path / "metrics.csv").read_bytes()
    tiny_learner(writers(run, resume=True)).fit(4, start_epoch=2)  # epoch 2 is trained again
    assert (tmp_path / "metrics.csv").read_bytes().startswith(before)
    assert [r["epoch"] for r in run.read_csv("metrics.csv")] == [0, 1, 2, 3]
    assert [r["iteration"] for r in run.read_csv("iterations.csv")] == [4, 8, 12, 16, 18, 20, 24]


class Beats:
    """A stand-in run folder that counts status writes."""

    def __init__(self):
        self.done = []

    def status(self, state, epochs_done, epochs):
        self.done.append(epochs_done)


@pytest.mark.parametrize("every, writes", [(3600, [0, 1, 2]), (0, [0] * 9 + [1] * 9 + [2])])
def test_long_epochs_beat_within_the_epoch(every, writes):
    beats = Beats()
    tiny_learner([Heartbeat(beats, every=every)]).fit(2)
    assert beats.done == writes  # fit start, 6 training and 2 validation batches, epoch end
