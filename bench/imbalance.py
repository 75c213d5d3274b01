"""Rare-class recall on an imbalanced set, without help and with each `data_options.balance` option.

A generated 3-class image-folder set with 300/40/6 training images (classes `common`, `middle`, `rare`:
noisy 16x16 grey images whose bright region differs by class) and a fresh, balanced test set of 20 per
class. Each option trains the same recipe with the same seeds; the table gives the rare class's recall
(of 20) and the balanced accuracy on the test set, per option, mean over the seeds. Issue 23: without
help the rare class scores about 0/20.

Run: python bench/imbalance.py /tmp/imbalance --seeds 0 1 2 --epochs 8
     python bench/imbalance.py /tmp/imbalance-smoke --smoke        # a tiny check that it runs
"""
import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from rich.console import Console
from sklearn.metrics import balanced_accuracy_score, recall_score

from fashionseg import Recipe
from fashionseg.build.learner import build_learner
from fashionseg.engine.trainer import fit

OPTIONS = {"none": {}, "weights": {"balance": "weights"},
           "weights (effective, beta 0.999)": {"balance": "weights", "balance_beta": 0.999},
           "sampler": {"balance": "sampler"}}
REGIONS = {"common": (slice(0, 8), slice(None)), "middle": (slice(None), slice(0, 8)), "rare": (slice(4, 12), slice(4, 12))}


def write_set(root: Path, counts: dict[str, int], split: str, seed: int):
    """`root/<split>/<class>/<i>.png`: noise with the class's region a little brighter."""
    rng = np.random.default_rng(seed)
    for name, n in counts.items():
        (root / split / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            image = rng.normal(100, 40, (16, 16))
            image[REGIONS[name]] += 40
            Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(root / split / name / f"{i}.png")


def rare_recall(root: Path, options: dict, seed: int, epochs: int) -> tuple[float, float]:
    """Train once; the rare class's test recall and the test balanced accuracy."""
    recipe = Recipe(name="imbalance", dataset="image-folder", arch="cam-fast-cnn", arch_options={"widths": [16, 32]},
                    epochs=epochs, lr=3e-3, bs=32, seed=seed,
                    data_options={"path": str(root), "augment": "none", **options})
    built = build_learner(recipe)
    with built.learn.no_logging():
        fit(built.learn, recipe)
    probs, targets = built.learn.get_preds(dl=built.data.test_dl)
    predicted, classes = probs.argmax(1).numpy(), built.data.classes
    recall = recall_score(targets.numpy(), predicted, labels=[classes.index("rare")], average=None)[0]
    return float(recall), float(balanced_accuracy_score(targets.numpy(), predicted))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="where the generated image folders go (made once)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--smoke", action="store_true", help="30/4/2 training images, 1 epoch, 1 seed")
    args = parser.parse_args()
    train = {"common": 30, "middle": 4, "rare": 2} if args.smoke else {"common": 300, "middle": 40, "rare": 6}
    seeds, epochs = ([0], 1) if args.smoke else (args.seeds, args.epochs)
    if not (args.root / "train").is_dir():
        write_set(args.root, train, "train", seed=1)
        write_set(args.root, {name: 20 for name in train}, "test", seed=2)
    console = Console()
    console.print(f"train {train}, test 20 per class, seeds {seeds}, {epochs} epochs")
    for label, options in OPTIONS.items():
        scores = np.array([rare_recall(args.root, options, seed, epochs) for seed in seeds])
        recall, balanced = scores.mean(0)
        console.print(f"{label:32s} rare recall {recall * 20:5.1f}/20   balanced accuracy {balanced:.3f}")


if __name__ == "__main__":
    main()
