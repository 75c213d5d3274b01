"""Tiny trained runs on real data for the inference tests: seconds to train, good enough to check
that every way of predicting agrees with the run's own evaluation."""
import shutil
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console
from testdata import need_data

from fashionseg import Recipe

FASHION_TEST = 200  # the run's test set: the first 200 official test images


def fashion_run(runs_dir: Path):
    """seed000-cnn, one epoch on 1,000 Fashion-MNIST images, tested on the first 200 test images."""
    from fashionseg.engine.trainer import run

    recipe = Recipe(name="tiny-fashion", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"],
                    epochs=1, lr=3e-3, bs=64, limit=1000, eval_limit=FASHION_TEST)
    return run(recipe, runs_dir=runs_dir, console=Console(quiet=True))


def facade_run(facade_root: Path, copy_to: Path, runs_dir: Path):
    """A small U-Net, one epoch at 64x64 on 8 real facade pairs, tested on 4 test_dev pairs."""
    from fashionseg.engine.trainer import run

    for split, n in (("train", 8), ("test_dev", 4)):
        (copy_to / split).mkdir(parents=True)
        for i in range(n):
            for suffix in (".jpg", ".png"):
                shutil.copy(facade_root / split / f"eecs442_{i:04d}{suffix}", copy_to / split)
    recipe = Recipe(name="tiny-facade", dataset="mini-facade", arch="unet",
                    arch_options={"encoder": "resnet18", "decoder_channels": [32, 16, 8]},
                    metrics=["pixel-accuracy"], epochs=1, lr=3e-3, bs=4, valid="0.25", sizes=[[0, 64]],
                    data_options={"path": str(copy_to), "augment": "none"})
    return run(recipe, runs_dir=runs_dir, console=Console(quiet=True))


def save_pngs(images, folder: Path, names) -> list[Path]:
    """uint8 `(H, W)` images written as PNG files under `folder` with the given relative names."""
    paths = []
    for image, name in zip(images, names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.numpy()).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def fashion(tmp_path_factory, fashion_mnist_dir):
    """(the tiny Fashion-MNIST run, its test images, their labels)."""
    from fashionseg.data import fashion_mnist

    raw = fashion_mnist.load()
    result = fashion_run(tmp_path_factory.mktemp("runs"))
    return result, raw["test_images"][:FASHION_TEST], raw["test_labels"][:FASHION_TEST]


@pytest.fixture(scope="module")
def facade(tmp_path_factory):
    """(the tiny facade run, the folder of its train and test_dev pairs)."""
    data = tmp_path_factory.mktemp("facade")
    root = need_data("mini-facade", ["train", "test_dev"])
    return facade_run(root, data, tmp_path_factory.mktemp("runs")), data
