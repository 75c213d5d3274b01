"""Deployment formats of fashion-fast and facade-best: size, batch-1 latency, throughput and test accuracy
per format (`fashionseg.infer.benchmark`), as markdown rows for docs/BENCHMARKS.md.

Each recipe is trained here with its own settings (or a finished run folder is given with --run); then
every format is built from the run folder and measured on this machine's CPU. `--smoke` trains
seed000 for one epoch on 512 images and times 3 calls per format: a check that the script runs.

Run: python bench/formats.py [--recipes fashion-fast facade-best] [--run RUN ...] [--batch 32] [--repeats 50]
     python bench/formats.py --smoke
"""
import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from fashionseg.infer.benchmark import HEADER, Timing, benchmark_run
from fashionseg.report.tables import markdown_table

SMOKE = dict(name="seed000", epochs=1, limit=512, eval_limit=128)


def train(name: str, runs_dir: Path, **changes) -> Path:
    from fashionseg.engine.trainer import run
    from fashionseg.registry.recipes import find_recipe

    return run(find_recipe(name).override(**changes), runs_dir=runs_dir, console=Console(quiet=True)).run.path


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", nargs="*", default=["fashion-fast", "facade-best"])
    p.add_argument("--run", nargs="*", default=[], help="finished run folders to measure instead of training")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--smoke", action="store_true", help="a tiny seed000 run, 3 timed calls per format")
    args = p.parse_args()
    timing = Timing(3, 4, 2) if args.smoke else Timing(args.repeats, args.batch)
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        if args.smoke:
            runs = [train(SMOKE["name"], Path(tmp), **{k: v for k, v in SMOKE.items() if k != "name"})]
        else:
            runs = [Path(r) for r in args.run] or [train(name, Path(tmp)) for name in args.recipes]
        for run in runs:
            folder, rows = benchmark_run(run, timing=timing)
            print(f"\n### {run.name}\n\n" + "\n".join(markdown_table(HEADER, rows)))
            print(f"\n(written to {folder})")


if __name__ == "__main__":
    main()
