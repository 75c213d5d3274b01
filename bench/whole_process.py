"""Whole process: `fashionseg train seed000 --epochs 1` against a bare PyTorch script doing the same work in
a fresh process (import torch, read the IDX files, one epoch of seed000's CNN at bs 128 with torch.optim.Adam at
1e-3 and L2 1e-4, the test pass). A quick experiment pays fashionseg's fixed costs (imports, data, building the
learner, the test pass, figures, report); this measures them. Each repeat runs both, alternating which goes first;
the ratio of the medians is the result. Target (issue 25): fashionseg / bare <= 1.10.

`--bare-fused` gives the bare script torch's fused Adam too (fashionseg's `torch-adam` is fused; plain
`torch.optim.Adam` on a CPU is a per-tensor loop): the ratio then shows fashionseg's fixed costs alone.

`--profile FILE` adds one fashionseg run under cProfile and writes its top functions by cumulative time to FILE
(what to make leaner). The bare script imports nothing of fashionseg, so this module imports only the standard
library at its top.

Run: python bench/whole_process.py [--repeats 5] [--out bench/whole_process.json] [--profile FILE]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPOCHS, BS, LR, WD, MEAN, STD = 1, 128, 1e-3, 1e-4, 0.2860, 0.3530


def fashion_dir() -> Path:
    for root in (os.environ.get("FASHIONSEG_DATA"), ROOT.parent / "shared" / "data"):
        if root and (Path(root) / "fashion-mnist").is_dir():
            return Path(root) / "fashion-mnist"
    raise SystemExit("Fashion-MNIST not found: set FASHIONSEG_DATA to the folder holding fashion-mnist/")


def bare(fused: bool = False) -> float:
    """The bare process's work; returns its test accuracy."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    def idx(name: str, offset: int):
        with gzip.open(fashion_dir() / name) as f:
            return torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=offset).copy())

    def images(name):
        return ((idx(name, 16).view(-1, 1, 28, 28).float() / 255 - MEAN) / STD)

    x, y = images("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz", 8).long()
    tx, ty = images("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz", 8).long()

    def block(n_in, n_out, padding):
        return [nn.Conv2d(n_in, n_out, 3, padding=padding), nn.BatchNorm2d(n_out), nn.ReLU(inplace=True),
                nn.MaxPool2d(2)]

    torch.manual_seed(42)
    model = nn.Sequential(*block(1, 32, 1), *block(32, 64, 0), nn.Flatten(), nn.Linear(64 * 6 * 6, 600),
                          nn.Dropout(0.25), nn.Linear(600, 120), nn.Linear(120, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WD, **({"fused": True} if fused else {}))
    for _ in range(EPOCHS):
        model.train()
        for batch in torch.randperm(len(x)).split(BS)[: len(x) // BS]:
            loss = F.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.inference_mode():
        correct = sum((model(tx[i:i + 512]).argmax(1) == ty[i:i + 512]).sum().item() for i in range(0, len(tx), 512))
    return correct / len(tx)


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    """Wall seconds of one command run to its end; its output ends the script if it fails."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def fashionseg_cmd(runs: str) -> list[str]:
    return [sys.executable, "-m", "fashionseg", "train", "seed000", "--epochs", str(EPOCHS), "--runs-dir", runs]


def profile(path: Path, runs: str):
    """One fashionseg run under cProfile; its top 40 functions by cumulative time, as text."""
    import pstats

    stats_file = Path(runs) / "profile.pstats"
    timed([sys.executable, "-m", "cProfile", "-o", str(stats_file), *fashionseg_cmd(runs)[1:]])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        pstats.Stats(str(stats_file), stream=f).sort_stats("cumulative").print_stats(40)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="bench/whole_process.json")
    parser.add_argument("--profile", help="write a cProfile summary of one fashionseg run to this file")
    parser.add_argument("--bare-fused", action="store_true", help="the bare script steps torch's fused Adam")
    parser.add_argument("--bare", action="store_true", help="(internal) be the bare process")
    args = parser.parse_args(argv)
    if args.bare:
        print(f"bare test accuracy {bare(args.bare_fused):.4f}")
        return {}
    times = {"bare": [], "fashionseg": []}
    with tempfile.TemporaryDirectory() as runs:
        bare_cmd = [sys.executable, __file__, "--bare", *(["--bare-fused"] if args.bare_fused else [])]
        commands = {"bare": bare_cmd, "fashionseg": fashionseg_cmd(runs)}
        for i in range(args.repeats):
            for name in (("bare", "fashionseg") if i % 2 == 0 else ("fashionseg", "bare")):
                times[name].append(round(timed(commands[name]), 2))
            print(f"repeat {i + 1}: bare {times['bare'][-1]} s, fashionseg {times['fashionseg'][-1]} s", flush=True)
        if args.profile:
            profile(Path(args.profile), runs)
    medians = {k: statistics.median(v) for k, v in times.items()}
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "bare_adam": "fused" if args.bare_fused else "per-tensor",
              "seconds": times, "medians": medians,
              "ratio": round(medians["fashionseg"] / medians["bare"], 3)}
    Path(args.out).write_text(json.dumps(record, indent=2))
    print(json.dumps(record))
    return record


if __name__ == "__main__":
    main()
