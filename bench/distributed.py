"""Multi-process training: wall time of one process against N processes launched by torchrun
(gloo on this CPU, NCCL on GPUs) for the same recipe and epochs, side by side, with the ratio.

Each contestant is a whole `fashionseg train` command (start-up, data, training, final test), so
the wall time is what a user waits for; `train s` is rank 0's training clock from metrics.csv.
The recipe's `bs` is per process: N processes train N times the batch in 1/N of the steps (see the
docs/distributed.md). torchrun gives each process OMP_NUM_THREADS=1
unless set; one process uses torch's default threads. Repeats alternate the order (1, N, N, 1, ...)
so both see the machine's drift alike.

Run: python bench/distributed.py [--recipe fashion-fast] [--epochs 3] [--processes 2] [--repeats 2]
     [--set limit=2000 ...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def command(processes: int, recipe: str, epochs: int, runs_dir: str, sets: list[str]) -> list[str]:
    """`fashionseg train` in one process, or under torchrun in `processes`."""
    train = ["-m", "fashionseg", "train", recipe, "--epochs", str(epochs), "--runs-dir", runs_dir]
    train += [w for item in sets for w in ("--set", item)]
    if processes == 1:
        return [sys.executable, *train]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *train]


def timed_run(processes: int, args) -> dict:
    """Wall seconds of the whole command, rank 0's training seconds and the final test accuracy."""
    with tempfile.TemporaryDirectory() as runs:
        start = time.perf_counter()
        done = subprocess.run(command(processes, args.recipe, args.epochs, runs, args.set), capture_output=True,
                              text=True, env={**os.environ, "COLUMNS": "200"})
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{processes} process(es) failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        (run,) = Path(runs).iterdir()
        metrics = json.loads((run / "metrics.json").read_text())
    score = next((k for k in ("accuracy", "mean_ap", "miou") if k in metrics), None)
    return {"wall": wall, "train": metrics["timings"]["train_seconds"],
            "score": f"{score} {metrics[score]:.4f}" if score else "-"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="fashion-fast")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe settings for both")
    args = parser.parse_args()
    results = {1: [], args.processes: []}
    for repeat in range(args.repeats):
        order = [1, args.processes] if repeat % 2 == 0 else [args.processes, 1]
        for n in order:
            results[n].append(timed_run(n, args))
    table = Table(title=f"{args.recipe}, {args.epochs} epochs: 1 process vs {args.processes}")
    for col in ("processes", "wall s per repeat", "train s (rank 0)", "final test", "mean wall s"):
        table.add_column(col, justify="right")
    mean = {n: sum(r["wall"] for r in rs) / len(rs) for n, rs in results.items()}
    train = {n: sum(r["train"] for r in rs) / len(rs) for n, rs in results.items()}
    for n, rs in results.items():
        table.add_row(str(n), " ".join(f"{r['wall']:.1f}" for r in rs), " ".join(f"{r['train']:.1f}" for r in rs),
                      " ".join(r["score"] for r in rs), f"{mean[n]:.1f}")
    console = Console()
    console.print(table)
    n = args.processes
    console.print(f"{n} processes / 1: wall time {mean[n] / mean[1]:.3f}, training time {train[n] / train[1]:.3f}")


if __name__ == "__main__":
    main()
