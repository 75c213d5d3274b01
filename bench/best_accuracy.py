"""Best accuracy: the strongest recipe's Fashion-MNIST test accuracy and its CPU training time.

Target (issue 12): at least 94.0% test accuracy within 15 minutes (900 s) of training (issue 4's bar was 93.0%).
Run: python bench/best_accuracy.py [--recipe fashion-best] [any recipe override: --epochs N, --set KEY=VALUE]
"""
import argparse
import json

import torch

from fashionseg.commands._options import add_recipe_options, apply_overrides
from fashionseg.engine.trainer import run
from fashionseg.registry.recipes import find_recipe

TARGET_ACCURACY, BUDGET_SECONDS = 0.94, 900


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipe", default="fashion-best")
    add_recipe_options(parser)
    parser.add_argument("--out", default="bench/best_accuracy.json")
    args = parser.parse_args()
    recipe = apply_overrides(find_recipe(args.recipe), args)
    result = run(recipe, runs_dir=args.runs_dir)
    accuracy, seconds = result.results["accuracy"], round(result.learner.train_seconds, 2)
    summary = {"recipe": args.recipe, "epochs": recipe.epochs, "run": str(result.run.path), "test_accuracy": accuracy,
               "train_seconds": seconds, "device": str(next(result.learner.model.parameters()).device),
               "threads": torch.get_num_threads(),
               "meets_target": accuracy >= TARGET_ACCURACY and seconds <= BUDGET_SECONDS}
    print(json.dumps(summary, indent=1))
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
