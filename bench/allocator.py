"""Allocator setting: training-step time with fashionseg's glibc malloc setting against glibc's defaults.

The setting is process-wide (fashionseg/utils/allocator.py), so each measurement is its own process:
the recipe's Learner is built, `--warmup` batches run, then `--batches` training batches are timed
and their minor page faults counted. The two settings alternate for `--rounds` rounds, so both see
the machine in the same state; the ratio is of the summed times.

Run: python bench/allocator.py [--recipes fashion-best seed000] [--rounds 3] [--batches 40]
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from fastai.callback.core import Callback, CancelFitException
from fashionseg.utils.allocator import keep_freed_memory
from fashionseg.build.learner import build_learner
from fashionseg.registry.recipes import find_recipe

name, warmup, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt

class Clock(Callback):
    order = 100
    def before_batch(self):
        if self.iter == warmup:
            self.f, self.t = faults(), time.perf_counter()
    def after_batch(self):
        if self.iter == warmup + batches - 1:
            self.result = {"seconds": time.perf_counter() - self.t, "faults": faults() - self.f}
            raise CancelFitException()

learn = build_learner(find_recipe(name)).learn
clock = Clock()
learn.fit(1, cbs=[clock])
print(json.dumps({**clock.result, "tuned": keep_freed_memory()}))
"""


def measure(recipe: str, tuned: bool, warmup: int, batches: int) -> dict:
    env = {**os.environ, "FASHIONSEG_MALLOC_TUNING": "1" if tuned else "0"}
    out = subprocess.run([sys.executable, "-c", CHILD, recipe, str(warmup), str(batches)], env=env,
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["tuned"] == tuned, result
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=["fashion-best", "seed000", "facade-fast"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--out", default="bench/allocator.json")
    args = parser.parse_args()
    results = {}
    for recipe in args.recipes:
        runs = {"default": [], "tuned": []}
        for i in range(args.rounds):
            for label, tuned in (("default", False), ("tuned", True)):
                r = measure(recipe, tuned, args.warmup, args.batches)
                runs[label].append(r)
                print(f"{recipe} round {i + 1} {label:7s} {r['seconds'] / args.batches * 1e3:7.1f} ms/batch "
                      f"{r['faults'] / args.batches:8.0f} faults/batch", flush=True)
        total = {k: sum(r["seconds"] for r in v) for k, v in runs.items()}
        results[recipe] = {**runs, "ratio_default_over_tuned": round(total["default"] / total["tuned"], 3)}
        print(f"{recipe}: default / tuned = {results[recipe]['ratio_default_over_tuned']}", flush=True)
    with open(args.out, "w") as f:
        json.dump({"batches": args.batches, "warmup": args.warmup, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
