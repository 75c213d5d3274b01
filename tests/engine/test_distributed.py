"""Multi-process training: two CPU processes (gloo) launched by torchrun write one run folder whose
test metrics cover the whole test set; a signal or a nan on one rank stops every rank at one batch;
sync_bn is refused on CPU processes and a no-op in one."""
import json
import multiprocessing
import os
import signal
import time

import pytest
import torch
from fastai.callback.core import Callback
from helpers.launch import rank_output, rows, torchrun
from rich.console import Console

from fashionseg.callbacks.stopping import NonFiniteStop, StopOnSignal
from fashionseg.errors import FashionsegError
from fashionseg.utils.distributed import check_sync_bn, data_parallel

TINY = ["fashion-fast", "--limit", "1024", "--eval-limit", "300", "--bs", "128", "--log-every", "1", "--no-figures"]


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.distributed
def test_two_processes_train_shards_and_rank_0_writes_one_run(tmp_path, fashion_mnist_dir):
    runs = tmp_path / "runs"
    proc = torchrun(tmp_path, "train", *TINY, "--epochs", "1", "--keep-best", "1", "--runs-dir", str(runs))
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out + rank_output(tmp_path, 0) + rank_output(tmp_path, 1)
    (run,) = runs.iterdir()  # one folder, named alike on both ranks
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "checkpoints.json", "config.json", "data.json",
                                                    "figures", "iterations.csv", "metrics.csv", "metrics.json",
                                                    "model.pth", "model.safetensors", "report.md", "status.json"]
    epochs = rows(run / "metrics.csv")
    assert [r["epoch"] for r in epochs] == ["0"]
    # each rank trained on half of the 1024 items: 4 batches of 128 per epoch, not 8
    assert [float(r["epoch"]) for r in rows(run / "iterations.csv")] == [0.25, 0.5, 0.75, 1.0]
    results = json.loads((run / "metrics.json").read_text())
    assert sum(map(sum, results["confusion_matrix"])) == 300  # the whole test set, not a shard
    # the provenance says how many processes trained and the batch they made together (128 each)
    assert {k: results["provenance"][k] for k in ("processes", "batch_per_process", "effective_batch")} == {
        "processes": 2, "batch_per_process": 128, "effective_batch": 256}
    report = (run / "report.md").read_text()
    assert "| processes | 2 |" in report and "| effective batch | 256 |" in report
    # validation predictions gathered from both ranks: the epoch's accuracy is the whole set's
    assert float(epochs[-1]["accuracy"]) == pytest.approx(results["accuracy"], abs=1e-6)
    assert float(epochs[-1]["valid_loss"]) == pytest.approx(results["test_loss"], rel=1e-4)
    for weights in (run / "model.pth", *run.glob("checkpoints/*.pth")):  # the model's own keys, not DDP's
        assert not [k for k in torch.load(weights, weights_only=True) if k.startswith("module.")]
    assert not list((tmp_path / "cwd").iterdir())
    assert "run folder" in rank_output(tmp_path, 0)
    assert rank_output(tmp_path, 1).strip() == ""  # rank 1 prints nothing


def worker_pid(torchrun_pid: int, local_rank: int) -> int:
    """The process id of the torchrun worker with this LOCAL_RANK."""
    import psutil

    for child in psutil.Process(torchrun_pid).children():
        if child.environ().get("LOCAL_RANK") == str(local_rank):
            return child.pid
    raise AssertionError(f"no worker with LOCAL_RANK={local_rank}")


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.distributed
def test_sigterm_to_one_rank_stops_both_and_the_run_resumes(tmp_path, fashion_mnist_dir):
    runs = tmp_path / "runs"
    proc = torchrun(tmp_path, "train", *TINY, "--epochs", "3", "--runs-dir", str(runs))
    deadline = time.monotonic() + 180
    while not any(len(rows(p)) >= 1 for p in runs.glob("*/metrics.csv")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
        time.sleep(0.05)
    os.kill(worker_pid(proc.pid, 1), signal.SIGTERM)  # rank 0 gets no signal: it must stop too
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0
    (run,) = runs.iterdir()
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "interrupted" and status["signal"] == "SIGTERM", out + rank_output(tmp_path, 0)
    assert status["resume"] == f"torchrun --standalone --nproc_per_node 2 -m fashionseg train --resume {run.resolve()}"
    assert (run / "last.pth").is_file() and len(rows(run / "metrics.csv")) < 3
    proc = torchrun(tmp_path, "train", "--resume", str(run))
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out + rank_output(tmp_path, 0)
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    assert [r["epoch"] for r in rows(run / "metrics.csv")] == ["0", "1", "2"]


class Trouble(Callback):
    """On rank 1 only, at training batch `at`: a signal arrives (`kind="signal"`) or the loss becomes nan."""

    def __init__(self, kind: str, at: int):
        self.kind, self.at = kind, at

    def after_loss(self):
        if not (self.training and self.train_iter == self.at and int(os.environ["RANK"]) == 1):
            return
        if self.kind == "nan":
            self.learn.loss = self.loss * float("nan")
        else:
            next(cb for cb in self.learn.cbs if isinstance(cb, StopOnSignal)).handle(signal.SIGTERM, None)


def _fit_in_group(rank, init_file, kind, out):
    """One of two gloo ranks fitting a tiny learner; reports where it stopped and why."""
    import torch.distributed as dist
    from fastai.test_utils import synth_learner

    os.environ.update(RANK=str(rank), WORLD_SIZE="2")
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    stop = StopOnSignal()
    learn = synth_learner(n_trn=8, cbs=[NonFiniteStop(), stop, Trouble(kind, 3)])
    learn.fit(2, 1e-3)
    out.put((rank, learn.train_iter, stop.received, learn.nonfinite))
    dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("kind", ["signal", "nan"])
def test_trouble_on_one_rank_stops_every_rank_after_the_same_batch(tmp_path, kind):
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_fit_in_group, args=(r, tmp_path / "init", kind, out)) for r in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    stopped = dict((r, rest) for r, *rest in (out.get(timeout=5) for _ in procs))
    assert stopped[0][0] == stopped[1][0] == 4  # after batch 3 (counted from 0), on both ranks
    if kind == "signal":
        assert stopped[0][1] == stopped[1][1] == signal.SIGTERM
    else:
        assert stopped[0][2] == stopped[1][2] and "training loss became nan at epoch 1, batch 4" in stopped[0][2]


def test_sync_bn_is_refused_on_cpu_processes(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(FashionsegError, match="sync_bn needs CUDA GPUs"):
        check_sync_bn(True, torch.device("cpu"))
    check_sync_bn(False, torch.device("cpu"))
    check_sync_bn(True, torch.device("cuda"))


def test_sync_bn_in_one_process_changes_nothing_and_says_so(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    check_sync_bn(True, torch.device("cpu"))
    console = Console(record=True, width=200)
    learn = object()
    with data_parallel(learn, sync_bn=True, console=console) as inside:
        assert inside is learn
    assert "sync_bn: one process has no batch statistics to share" in console.export_text()
