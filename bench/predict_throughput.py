"""Batch predict over a folder against a plain torch loop: images per second, side by side.

Both use the same weights (a run folder: given, or a short fashion-fast run trained here) and the
same images (the first N Fashion-MNIST test images). fashionseg reads the PNG files from a folder
and runs its whole predict path (`fashionseg.predict.predict_paths`: read, resize, normalise,
batch, forward, the task's labels and probabilities); the plain loop gets the images already
decoded into one uint8 tensor and only normalises, forwards and takes the softmax, batch by batch.
Repeats alternate the order. Target: fashionseg >= 0.9x the plain loop's images/s.

Run: python bench/predict_throughput.py [RUN] [--images 10000] [--bs 256] [--repeats 3]
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from rich.console import Console

from fashionseg.build import model_from_run
from fashionseg.data import fashion_mnist
from fashionseg.predict import find_images, normalize, predict_paths

TARGET = 0.9


def trained_run(runs_dir: Path) -> Path:
    from fashionseg.recipe import find_recipe
    from fashionseg.train import run

    recipe = find_recipe("fashion-fast").override(epochs=1, limit=5000, eval_limit=1000)
    return run(recipe, runs_dir=runs_dir, console=Console(quiet=True)).run.path


def plain_loop(model, images: torch.Tensor, summary: dict, bs: int) -> torch.Tensor:
    """What a hand-written loop does with preloaded uint8 images `(N, 1, H, W)`."""
    out = []
    with torch.no_grad():
        for start in range(0, len(images), bs):
            out.append(model(normalize(images[start:start + bs], summary)).softmax(1))
    return torch.cat(out)


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", nargs="?", help="a classification run folder (default: train a short fashion-fast)")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--bs", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_path = Path(args.run) if args.run else trained_run(tmp / "runs")
        trained = model_from_run(run_path, on=torch.device("cpu"))
        images = fashion_mnist.load()["test_images"][:args.images]
        (tmp / "images").mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image.numpy()).save(tmp / "images" / f"{i:05d}.png")
        paths = find_images([str(tmp / "images")])
        preloaded = images[:, None]
        model = trained.model.eval()
        contestants = {
            "fashionseg predict (files)": lambda: list(predict_paths(trained, paths, args.bs)),
            "plain torch loop (preloaded)": lambda: plain_loop(model, preloaded, trained.summary, args.bs),
        }
        ours = [p.probs for _, _, p in predict_paths(trained, paths[:64], args.bs)]  # same answers first
        theirs = plain_loop(model, preloaded[:64], trained.summary, args.bs)
        assert torch.allclose(torch.stack(ours), theirs, atol=1e-5), "the two paths disagree"
        seconds = {name: [] for name in contestants}
        for r in range(args.repeats):
            order = list(contestants) if r % 2 == 0 else list(reversed(contestants))
            for name in order:
                seconds[name].append(timed(contestants[name]))
            print(f"repeat {r + 1}: " + "  ".join(f"{n} {seconds[n][-1]:.2f}s" for n in contestants), flush=True)
    rates = {name: len(paths) / statistics.median(s) for name, s in seconds.items()}
    ratio = rates["fashionseg predict (files)"] / rates["plain torch loop (preloaded)"]
    for name, rate in rates.items():
        print(f"{name}: {rate:,.0f} images/s (median of {args.repeats})")
    print(f"fashionseg / plain: {ratio:.3f} (target >= {TARGET}) threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
