"""Starting fashionseg under torchrun the way a user does: two CPU processes (gloo), each rank's output kept."""
import csv
import os
import subprocess
import sys


def torchrun(tmp_path, *args, **popen) -> subprocess.Popen:
    """`torchrun --standalone --nproc_per_node 2 -m fashionseg ...` from an empty folder, each rank's
    output in its own log file (see `rank_output`)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "--log-dir", str(tmp_path / "logs"), "--redirects", "3", "-m", "fashionseg", *args]
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"}, **popen)


def rank_output(tmp_path, rank: int) -> str:
    """What the worker of `rank` printed (stdout and stderr), from torchrun's log files."""
    return "".join(p.read_text() for p in sorted((tmp_path / "logs").glob(f"**/attempt_0/{rank}/std*.log")))


def rows(path) -> list[dict]:
    """A CSV the run or command wrote, as dicts."""
    with open(path) as f:
        return list(csv.DictReader(f))
