"""Batch predict over a folder against a plain torch loop: images per second, side by side.

Both use the same weights (a run folder: given, or a short run trained here) and the same images:
`--data fashion-mnist` (default) the first N Fashion-MNIST test images written as 28x28 PNG files and a
fashion-fast classifier; `--data mini-facade` the Mini Facade photos (256x256 JPEG files, train/ then
test_dev/) and a facade-fast U-Net. fashionseg reads the files from a folder and runs its whole predict
path (`fashionseg.infer.predict.predict_paths`: read, normalise, resize to the model's size, batch, forward, the
task's answer: labels and probabilities, or a class mask at the image's size); the plain loop gets the
images already decoded into one uint8 tensor and only normalises, forwards and takes the answer
(softmax, or the arg-max of the scores brought back to the image's size), batch by batch. Repeats
alternate the order. Target: fashionseg >= 0.9x the plain loop's images/s.

Run: python bench/predict_throughput.py [RUN] [--data fashion-mnist|mini-facade] [--images N] [--bs B]
                                        [--repeats 3]
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from rich.console import Console

from fashionseg.data import fashion_mnist
from fashionseg.data.images import read_image, resized
from fashionseg.data.locate import find_data
from fashionseg.infer.predict import find_images, model_size, normalize, predict_paths
from fashionseg.infer.trained import load_run

TARGET = 0.9


RECIPES = {"fashion-mnist": dict(name="fashion-fast", epochs=1, limit=5000, eval_limit=1000),
           "mini-facade": dict(name="facade-fast", epochs=1, limit=32, eval_limit=16, sizes=[[0, 128]])}


def trained_run(data: str, runs_dir: Path) -> Path:
    from fashionseg.engine.trainer import run
    from fashionseg.registry.recipes import find_recipe

    settings = dict(RECIPES[data])
    recipe = find_recipe(settings.pop("name")).override(**settings)
    return run(recipe, runs_dir=runs_dir, console=Console(quiet=True)).run.path


def image_files(data: str, n: int, folder: Path) -> list[Path]:
    """N image files of the data set: Fashion-MNIST test images written as PNG, or Mini Facade's own JPEGs."""
    if data == "mini-facade":
        root = find_data("mini-facade", ["train", "test_dev"])
        return (sorted((root / "train").glob("*.jpg")) + sorted((root / "test_dev").glob("*.jpg")))[:n]
    folder.mkdir()
    for i, image in enumerate(fashion_mnist.load()["test_images"][:n]):
        Image.fromarray(image.numpy()).save(folder / f"{i:05d}.png")
    return find_images([str(folder)])


def plain_loop(model, images: torch.Tensor, summary: dict, bs: int, task: str) -> list[torch.Tensor]:
    """What a hand-written loop does with preloaded uint8 images `(N, C, H, W)` of one size."""
    out, size = [], model_size(summary)
    with torch.no_grad():
        for start in range(0, len(images), bs):
            scores = model(resized(normalize(images[start:start + bs], summary), size))
            if task == "classification":
                out.append(scores.softmax(1))
            else:
                out += list(F.interpolate(scores, size=images.shape[-2:], mode="bilinear").argmax(1))
    return out


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", nargs="?", help="a run folder of that data set (default: train a short one here)")
    parser.add_argument("--data", choices=sorted(RECIPES), default="fashion-mnist")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--bs", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_path = Path(args.run) if args.run else trained_run(args.data, tmp / "runs")
        trained = load_run(run_path, on=torch.device("cpu"))
        task, n_in = trained.task.name, trained.summary["n_in"]
        paths = image_files(args.data, args.images, tmp / "images")
        preloaded = torch.stack([read_image(p, n_in) for p in paths])
        model = trained.model.eval()
        contestants = {
            "fashionseg predict (files)": lambda: list(predict_paths(trained, paths, args.bs)),
            "plain torch loop (preloaded)": lambda: plain_loop(model, preloaded, trained.summary, args.bs, task),
        }
        ours = [p for _, _, p in predict_paths(trained, paths[:16], args.bs)]  # the same answers first
        theirs = plain_loop(model, preloaded[:16], trained.summary, args.bs, task)
        if task == "classification":
            assert torch.allclose(torch.stack([p.probs for p in ours]), theirs[0], atol=1e-5), "the paths disagree"
        else:
            agree = torch.stack(ours).eq(torch.stack(theirs)).float().mean().item()
            assert agree > 0.999, f"the two paths disagree on {1 - agree:.2%} of the pixels"
        seconds = {name: [] for name in contestants}
        for r in range(args.repeats):
            order = list(contestants) if r % 2 == 0 else list(reversed(contestants))
            for name in order:
                seconds[name].append(timed(contestants[name]))
            print(f"repeat {r + 1}: " + "  ".join(f"{n} {seconds[n][-1]:.2f}s" for n in contestants), flush=True)
    rates = {name: len(paths) / statistics.median(s) for name, s in seconds.items()}
    ratio = rates["fashionseg predict (files)"] / rates["plain torch loop (preloaded)"]
    print(f"{len(paths)} images of {args.data}, bs {args.bs}, input size {model_size(trained.summary)}")
    for name, rate in rates.items():
        print(f"{name}: {rate:,.1f} images/s (median of {args.repeats})")
    print(f"fashionseg / plain: {ratio:.3f} (target >= {TARGET}) threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
