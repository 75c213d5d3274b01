"""Predict at scale (issue 22): `fashionseg predict RUN PHOTOS --csv` in one process against `torchrun
--nproc_per_node N -m fashionseg predict ...` on the same folder of photos, alternating which goes first in each
repeat; the medians' ratio is the result, and the CSVs of both must be identical (same rows, input order).

PHOTOS defaults to every Mini Facade photo (train and test_dev, 1,020 JPEGs) linked into one folder. Each
command writes its CSV and its mask files (`--out`) into a fresh folder; wall time includes the start-up of
the processes, as a user sees it. torchrun gives each of its processes one torch thread (its default), the
single process uses every core.

Run: python bench/predict_processes.py RUN [--photos DIR] [--processes 2] [--repeats 3] [--json FILE]
"""
import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from whole_process import timed  # bench/ is this script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]


def facade_photos(into: Path) -> Path:
    """Every Mini Facade photo linked into `into` (the data set found as fashionseg finds it)."""
    data = Path(os.environ.get("FASHIONSEG_DATA") or ROOT.parent / "shared" / "data") / "mini-facade"
    into.mkdir(parents=True, exist_ok=True)
    for photo in sorted(data.glob("*/*.jpg")):
        link = into / f"{photo.parent.name}-{photo.name}"
        if not link.exists():
            link.symlink_to(photo)
    return into


def rows(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a finished run folder (segmentation or classification)")
    parser.add_argument("--photos", type=Path, help="a folder of images (default: every Mini Facade photo)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="predict-processes-") as tmp:
        tmp = Path(tmp)
        photos = args.photos or facade_photos(tmp / "photos")
        n = sum(1 for p in photos.iterdir() if p.is_file())

        def command(name: str, i: int) -> list[str]:
            out = tmp / f"{name}-{i}"
            tail = ["-m", "fashionseg", "predict", str(Path(args.run).resolve()), str(photos.resolve()),
                    "--csv", str(out / "predictions.csv"), "--out", str(out / "files")]
            if name == "one":
                return [sys.executable, *tail]
            return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                    str(args.processes), *tail]

        seconds = {"one": [], "many": []}
        for i in range(args.repeats):
            for name in ("one", "many") if i % 2 == 0 else ("many", "one"):
                seconds[name].append(round(timed(command(name, i), tmp), 2))
            same = rows(tmp / f"one-{i}" / "predictions.csv") == rows(tmp / f"many-{i}" / "predictions.csv")
            print(f"repeat {i + 1}: 1 process {seconds['one'][-1]} s, {args.processes} processes "
                  f"{seconds['many'][-1]} s, identical CSVs: {same}", flush=True)
            if not same:
                raise SystemExit("the CSVs differ: the sharded predict is wrong")
    medians = {k: statistics.median(v) for k, v in seconds.items()}
    record = {"images": n, "processes": args.processes, "seconds": seconds, "medians": medians,
              "ratio_many_to_one": round(medians["many"] / medians["one"], 3)}
    print(json.dumps(record))
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
