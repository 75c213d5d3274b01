"""Time to 91.52% Fashion-MNIST test accuracy: the fast recipe against seed000, side by side.

Both recipes validate on the official test set, so each epoch's validation accuracy is
the test accuracy. Training time counts training phases only (validation excluded).
Run: python bench/time_to_accuracy.py [--fast fashion-fast] [--baseline seed000]
"""
import argparse
import json
import time

from fastai.callback.core import Callback, CancelFitException

from fashionseg.callbacks import EpochCSV
from fashionseg.recipe import find_recipe
from fashionseg.train import build_learner, fit

TARGET = 0.9152


class StopAtAccuracy(Callback):
    """Ends fit at the first epoch whose accuracy reaches the target."""

    order = 70

    def __init__(self, target):
        self.target = target

    def after_epoch(self):
        acc = float(self.recorder.log[self.recorder.metric_names.index("accuracy")])
        if acc >= self.target:
            raise CancelFitException()


def time_to_target(name: str, stop_early: bool) -> dict:
    recipe = find_recipe(name)
    log = EpochCSV()
    cbs = [log] + ([StopAtAccuracy(TARGET)] if stop_early else [])
    _, learn = build_learner(recipe, cbs=cbs)
    start = time.perf_counter()
    fit(learn, recipe)
    wall = time.perf_counter() - start
    epochs = [{"epoch": r["epoch"] + 1, "accuracy": float(r["accuracy"]), "train_seconds": r["train_seconds"]} for r in log.rows]
    hit = next((e for e in epochs if e["accuracy"] >= TARGET), None)
    return {"recipe": name, "epochs": epochs, "reached": hit, "wall_seconds": round(wall, 1),
            "best_accuracy": max(e["accuracy"] for e in epochs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", default="fashion-fast")
    parser.add_argument("--baseline", default="seed000")
    parser.add_argument("--out", default="bench/time_to_accuracy.json")
    args = parser.parse_args()
    fast = time_to_target(args.fast, stop_early=False)
    base = time_to_target(args.baseline, stop_early=True)
    result = {"target": TARGET, "fast": fast, "baseline": base}
    if fast["reached"] and base["reached"]:
        result["ratio"] = round(fast["reached"]["train_seconds"] / base["reached"]["train_seconds"], 3)
    print(json.dumps({k: v for k, v in result.items()}, indent=1))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
