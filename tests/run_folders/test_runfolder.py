"""Run folders: rank-0-only side effects, race-free creation, umask, appendable CSVs, status and run state."""
import json
import multiprocessing
import os
import socket
import stat
import subprocess
import sys
import threading
from datetime import datetime, timedelta

import pytest

from fashionseg import FashionsegError
from fashionseg.run_folders import folder as runfolder
from fashionseg.run_folders.folder import RunFolder
from fashionseg.run_folders.state import run_state
from fashionseg.utils.rank import from_main, is_main, main_console, rank


@pytest.fixture
def other_rank(monkeypatch):
    monkeypatch.setenv("RANK", "1")


def test_rank_comes_from_the_launcher_environment(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert (rank(), is_main()) == (0, True)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert (rank(), is_main()) == (2, False)
    monkeypatch.setenv("RANK", "0")  # the global rank wins over the per-machine one
    assert (rank(), is_main()) == (0, True)
    assert from_main("mine") == "mine"  # no process group: nothing to share


def test_only_the_main_process_prints(monkeypatch, capsys):
    from rich.console import Console

    mine = Console()
    assert main_console(mine) is mine
    monkeypatch.setenv("RANK", "3")
    main_console(mine).print("from rank 3")
    assert capsys.readouterr().out == ""


def test_other_ranks_create_and_write_nothing(other_rank, tmp_path):
    import matplotlib.pyplot as plt

    run = RunFolder.create(tmp_path / "runs", "toy")
    assert run.path.parent == tmp_path / "runs" and run.path.name.startswith("toy-")
    run.write_json("config.json", {"a": 1})
    run.write_text("report.md", "# x")
    run.write_csv("metrics.csv", ["epoch"], [[0]])
    run.append_csv("iterations.csv", ["iteration"], [[1]])
    run.status("running")
    fig = plt.figure()
    assert run.save_figure(fig, "loss") == "figures/loss.png"
    assert not plt.fignum_exists(fig.number)
    assert not (tmp_path / "runs").exists()


def test_other_ranks_do_not_delete(other_rank, tmp_path):
    (tmp_path / "best.pth").write_text("w")
    RunFolder(tmp_path).remove("best.pth")
    assert (tmp_path / "best.pth").exists()


def _create_in_group(rank, init_file, runs_dir, out):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    run = RunFolder.create(runs_dir, "group")
    run.write_text("from.txt", f"rank {rank}")
    dist.barrier()
    out.put((rank, str(run.path)))
    dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.distributed
def test_with_a_process_group_every_rank_gets_the_folder_rank_0_made(monkeypatch, tmp_path):
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(runfolder.time, "strftime", lambda fmt: "20250101-120000")
    (tmp_path / "runs" / "group-20250101-120000").mkdir()  # rank 0 must take the -2 suffix
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_create_in_group, args=(r, tmp_path / "init", tmp_path / "runs", out)) for r in (0, 1)]
    for p in procs:
        p.start()
    paths = dict(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join()
    assert paths[0] == paths[1] == str(tmp_path / "runs" / "group-20250101-120000-2")
    assert (tmp_path / "runs" / "group-20250101-120000-2" / "from.txt").read_text() == "rank 0"


def _create_many(runs_dir, barrier, out):
    barrier.wait()
    out.put(str(RunFolder.create(runs_dir, "same").path))


@pytest.mark.slow
def test_runs_started_in_the_same_second_each_get_their_own_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(runfolder.time, "strftime", lambda fmt: "20250101-120000")
    runs_dir = tmp_path / "runs"
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_create_many, args=(runs_dir, barrier, out)) for _ in range(6)]
    for p in procs:
        p.start()
    paths = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join()
    gate = threading.Barrier(12)
    threads = [threading.Thread(target=lambda: (gate.wait(), paths.append(str(RunFolder.create(runs_dir, "same").path))))
               for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = sorted(os.path.basename(p) for p in paths)
    assert len(names) == len(set(names)) == 18
    assert sorted(p.name for p in runs_dir.iterdir()) == names
    assert {"same-20250101-120000", "same-20250101-120000-2", "same-20250101-120000-18"} <= set(names)
    assert all((runs_dir / n / "figures").is_dir() for n in names)


def _write_under_umask(runs_dir, umask, out):
    """In a fresh process (forked): set the umask, then import the module as a new process would."""
    import importlib

    from fashionseg.utils import files

    os.umask(umask)
    importlib.reload(files)  # the umask is read once, when the module is imported
    run = runfolder.RunFolder.create(runs_dir, "toy")
    run.write_json("config.json", {"a": 1})
    run.write_csv("metrics.csv", ["epoch"], [[0]])
    run.append_csv("metrics.csv", ["epoch"], [[1]])
    out.put(str(run.path))


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_files_and_folders_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_write_under_umask, args=(tmp_path, umask, out))
    child.start()
    path = tmp_path / out.get(timeout=30)
    child.join()
    assert [stat.S_IMODE((path / f).stat().st_mode) for f in ("config.json", "metrics.csv")] == [file_mode] * 2
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE((path / "figures").stat().st_mode) == dir_mode
    assert not list(path.glob(".*.tmp"))


def test_appending_keeps_the_history_byte_for_byte(tmp_path):
    run = RunFolder(tmp_path)
    run.append_csv("m.csv", ["epoch", "lr"], [[0, 3e-05]])
    first = (tmp_path / "m.csv").read_bytes()
    run.append_csv("m.csv", ["epoch", "lr"], [[1, 1e-3], [2, 0.5]])
    assert (tmp_path / "m.csv").read_bytes().startswith(first)
    assert run.read_csv("m.csv") == [{"epoch": 0, "lr": 3e-05}, {"epoch": 1, "lr": 0.001}, {"epoch": 2, "lr": 0.5}]
    assert "3e-05" in first.decode()  # full precision, never 0.0000


def test_appending_under_another_header_is_an_error_and_changes_nothing(tmp_path):
    run = RunFolder(tmp_path)
    run.write_csv("m.csv", ["epoch", "time"], [[0, 1.5]])
    before = (tmp_path / "m.csv").read_bytes()
    with pytest.raises(FashionsegError, match="has columns epoch,time but the new rows have epoch,elapsed_seconds"):
        run.append_csv("m.csv", ["epoch", "elapsed_seconds"], [[1, 2.0]])
    assert (tmp_path / "m.csv").read_bytes() == before


def test_status_records_the_process_and_keeps_its_start(tmp_path):
    run = RunFolder(tmp_path)
    run.write_json("status.json", {"state": "failed", "pid": 1, "host": "elsewhere", "started": "old", "error": "x"})
    run.status("running", epochs_done=0)
    first = run.read_json("status.json")
    assert (first["pid"], first["host"], first["epochs_done"]) == (os.getpid(), socket.gethostname(), 0)
    assert first["started"] != "old" and "error" not in first  # a new process starts a fresh record
    datetime.fromisoformat(first["updated"])
    run.status("running", epochs_done=1)
    run.status("failed", error="ValueError: boom")
    last = run.read_json("status.json")
    assert (last["state"], last["started"], last["epochs_done"], last["error"]) == \
        ("failed", first["started"], 1, "ValueError: boom")
    assert run_state(tmp_path) == "failed"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _status(tmp_path, **fields):
    (tmp_path / "status.json").write_text(json.dumps(fields))
    return run_state(tmp_path)


def test_run_state_tells_a_live_run_from_a_dead_one(tmp_path):
    host, now = socket.gethostname(), datetime.now().astimezone()
    long_ago = (now - timedelta(hours=1)).isoformat()
    assert _status(tmp_path, state="running", pid=os.getpid(), host=host, updated=long_ago) == "running"
    assert _status(tmp_path, state="running", pid=_dead_pid(), host=host, updated=now.isoformat()) == "died"
    # on another host the process cannot be asked: the heartbeat's age decides
    assert _status(tmp_path, state="running", pid=1, host="node-7", updated=now.isoformat()) == "running"
    assert _status(tmp_path, state="running", pid=1, host="node-7", updated=long_ago) == "died"
    assert _status(tmp_path, state="running", time="2024-01-01 10:00:00") == "died"  # older runs, no heartbeat
    for state in ("finished", "failed", "interrupted"):
        assert _status(tmp_path, state=state, pid=_dead_pid(), host=host) == state
    (tmp_path / "status.json").unlink()
    assert run_state(tmp_path) == "unknown"
