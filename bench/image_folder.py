"""Image folder vs IDX files: one training epoch of seed000-cnn from Fashion-MNIST written out as
a PNG tree (after its first decode) against the same epoch from the IDX files, and fastai's
`ImageDataLoaders.from_folder` on the same tree with the same model.

The tree (`train/<class>/<i>.png`, `test/<class>/<i>.png`, 70,000 files) is written once into DIR.
The first decode is timed from an empty cache. Then each repeat fits one epoch (bs 128, Adam,
validation on the 10,000 test images included) of each pipeline in turn, fresh models each time;
the medians are compared. Target: folder epoch <= 1.10x IDX epoch.

Run: python bench/image_folder.py [DIR] [--repeats 3] [--limit N (N training images, N/6 test: smoke)]
"""
import argparse
import json
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import torch
from fastai.data.transforms import Normalize
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy
from fastai.optimizer import OptimWrapper
from fastai.vision.core import PILImageBW
from fastai.vision.data import ImageDataLoaders
from PIL import Image

from fashionseg import Recipe, create_model
from fashionseg.build.learner import build_data, build_learner
from fashionseg.data import fashion_mnist
from fashionseg.data.decode_cache import CACHE_DIR
from fashionseg.data.locate import cache_root

TARGET = 1.10


def recipe(dataset: str, **data_options) -> Recipe:
    return Recipe(name=f"bench-{dataset}", dataset=dataset, arch="seed000-cnn", metrics=["accuracy"], epochs=1,
                  lr=1e-3, bs=128, schedule="constant", opt="torch-adam", data_options=data_options)


def write_tree(root: Path, limit: int) -> tuple[int, int]:
    """Fashion-MNIST as PNGs under root/train and root/test (once: a marker file records what is there)."""
    raw = fashion_mnist.load()
    n_train = min(limit, len(raw["train_labels"])) if limit else len(raw["train_labels"])
    n_test = min(max(limit // 6, 1), len(raw["test_labels"])) if limit else len(raw["test_labels"])
    marker = root / ".written.json"
    if marker.is_file() and json.loads(marker.read_text()) == [n_train, n_test]:
        return n_train, n_test
    shutil.rmtree(root, ignore_errors=True)
    names = [c.replace("/", "-") for c in fashion_mnist.CLASSES]
    jobs = [(root / split / names[int(raw[f"{split}_labels"][i])] / f"{i}.png", raw[f"{split}_images"][i])
            for split, n in (("train", n_train), ("test", n_test)) for i in range(n)]
    for folder in {path.parent for path, _ in jobs}:
        folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda job: Image.fromarray(job[1].numpy()).save(job[0]), jobs))
    print(f"wrote {len(jobs)} PNGs into {root} in {time.perf_counter() - start:.1f}s", flush=True)
    marker.write_text(json.dumps([n_train, n_test]))
    return n_train, n_test


def first_decode(root: Path) -> float:
    """Seconds to list and decode the tree from an empty cache."""
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    start = time.perf_counter()
    build_data(recipe("image-folder", path=str(root)))
    return time.perf_counter() - start


def fastai_learner(root: Path):
    """fastai's own pipeline on the tree: PIL decode per item per epoch, same model, loss and optimizer."""
    dls = ImageDataLoaders.from_folder(root, train="train", valid="test", bs=128, img_cls=PILImageBW,
                                       batch_tfms=[Normalize.from_stats([fashion_mnist.MEAN], [fashion_mnist.STD])])
    return Learner(dls, create_model("seed000-cnn", len(dls.vocab), 1), loss_func=CrossEntropyLossFlat(),
                   opt_func=partial(OptimWrapper, opt=torch.optim.Adam), metrics=accuracy)


def timed_epoch(learn) -> float:
    """Seconds for one epoch (train and validate), without bars or logging."""
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-3)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", default=str(cache_root() / "bench" / "fashion-mnist-png"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="write only N training and N/6 test images (smoke)")
    parser.add_argument("--no-fastai", action="store_true", help="skip the from_folder epochs")
    parser.add_argument("--out", default="bench/image_folder.json")
    args = parser.parse_args()
    root = Path(args.dir).expanduser()
    n_train, n_test = write_tree(root, args.limit)
    decode = first_decode(root)
    print(f"first decode of {n_train + n_test} images: {decode:.1f}s", flush=True)
    idx = recipe("fashion-mnist").override(limit=args.limit, eval_limit=n_test if args.limit else 0)
    makers = {"idx": lambda: build_learner(idx).learn,
              "folder": lambda: build_learner(recipe("image-folder", path=str(root))).learn}
    if not args.no_fastai:
        makers["fastai_from_folder"] = lambda: fastai_learner(root)
    seconds = {name: [] for name in makers}
    for i in range(args.repeats):
        for name, make in makers.items():
            torch.manual_seed(i)
            seconds[name].append(timed_epoch(make()))
        print(f"repeat {i + 1}: " + "  ".join(f"{k} {v[-1]:.1f}s" for k, v in seconds.items()), flush=True)
    median = {name: statistics.median(v) for name, v in seconds.items()}
    result = {"images": [n_train, n_test], "first_decode_seconds": round(decode, 2), "epoch_seconds": seconds,
              "median_seconds": median, "folder_over_idx": round(median["folder"] / median["idx"], 3),
              "target_folder_over_idx": TARGET, "threads": torch.get_num_threads()}
    if "fastai_from_folder" in median:
        result["fastai_over_idx"] = round(median["fastai_from_folder"] / median["idx"], 3)
        result["fastai_over_folder"] = round(median["fastai_from_folder"] / median["folder"], 3)
    result["meets_target"] = result["folder_over_idx"] <= TARGET
    print(json.dumps(result, indent=1))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
