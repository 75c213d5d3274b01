"""Start-up time of the command line: `--help`, `train --help`, `--version`, `list`.

Runs each command of this checkout's `fashionseg` and, with `--baseline`, of another install
(e.g. an older commit's venv) alternately, so machine drift falls on both sides alike; prints the
median wall time of each and their ratio, and whether torch/fastai were imported (`-X importtime`).

    .venv/bin/python bench/cli_startup.py --repeats 7 --baseline /tmp/old/.venv/bin/fashionseg
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = [["--help"], ["train", "--help"], ["--version"], ["list"]]


def wall(executable: str, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def heavy_imports(executable: str, args: list[str]) -> list[str]:
    """Which of torch/fastai the command imports, from `python -X importtime`."""
    python = str(Path(executable).with_name("python"))
    # Run outside any checkout: `-m` puts the working folder first on sys.path.
    done = subprocess.run([python, "-X", "importtime", "-m", "fashionseg.cli", *args], capture_output=True, text=True,
                          cwd=tempfile.gettempdir())
    found = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return sorted(found & {"torch", "fastai"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", help="another fashionseg executable to time side by side")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    current = str(Path(sys.executable).with_name("fashionseg"))
    sides = {"current": current, **({"baseline": args.baseline} if args.baseline else {})}
    results = []
    for command in COMMANDS:
        times = {side: [] for side in sides}
        for _ in range(args.repeats):
            for side, exe in sides.items():
                times[side].append(wall(exe, command))
        row = {"command": "fashionseg " + " ".join(command)}
        for side, exe in sides.items():
            row[side] = round(statistics.median(times[side]), 3)
            row[f"{side}_imports"] = heavy_imports(exe, command)
        if args.baseline:
            row["ratio"] = round(row["current"] / row["baseline"], 3)
        results.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
