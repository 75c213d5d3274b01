"""Tiny trained runs on real data: seconds to train, good enough to check that every way of predicting
agrees with the run's own evaluation. tests/conftest.py trains each once per session (fixtures
`fashion`, `facade`, `mask_run`, `tiny_run`); a test that writes into a run folder works on `copy_run(...)`."""
import shutil
from pathlib import Path

from PIL import Image
from rich.console import Console

from fashionseg import Recipe

FASHION_TEST = 300  # the tiny Fashion-MNIST run's test set: the first 300 official test images
FACADE_PAIRS = (("train", 32), ("test_dev", 8))  # the facade run's Mini Facade pairs


def train(recipe: Recipe, runs_dir: Path, console: Console | None = None, cbs=()):
    """`fashionseg.engine.trainer.run`, quietly."""
    from fashionseg.engine.trainer import run

    return run(recipe, runs_dir=runs_dir, console=console or Console(quiet=True), cbs=cbs)


def fashion_recipe() -> Recipe:
    """seed000-cnn, one epoch on 1,000 Fashion-MNIST images, tested on the first 300 test images; no report figures
    (the tests of figures turn them on: they cost a third of a tiny run)."""
    return Recipe(name="tiny-fashion", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"],
                  epochs=1, lr=3e-3, bs=64, limit=1000, eval_limit=FASHION_TEST, figures=False)


def copy_facade_pairs(facade_root: Path, copy_to: Path, counts=FACADE_PAIRS) -> Path:
    """The first pairs of each split of Mini Facade, copied into `copy_to`."""
    for split, n in counts:
        (copy_to / split).mkdir(parents=True)
        for i in range(n):
            for suffix in (".jpg", ".png"):
                shutil.copy(facade_root / split / f"eecs442_{i:04d}{suffix}", copy_to / split)
    return copy_to


def facade_recipe(data: Path) -> Recipe:
    """A U-Net trained briefly at low resolution (48 px, then 64 px from epoch 4) on 32 real training pairs,
    tested on 8 test_dev pairs: well above chance (engine/test_segmentation_train.py checks how far). No report
    figures."""
    return Recipe(name="tiny-facade", dataset="mini-facade", arch="unet",
                  arch_options={"encoder": "resnet18", "decoder_channels": [32, 16, 8]},  # three stages: fast
                  metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"],
                  epochs=8, lr=3e-3, bs=8, valid="0.25", sizes=[[0, 48], [4, 64]],
                  data_options={"path": str(data), "augment": "flip"}, figures=False)


def mask_folder_recipe(root: Path) -> Recipe:
    """A small facade-fcn, one epoch on a generated mask folder (`seg_folders.make_root`) with ignored pixels; no
    report figures."""
    from helpers.seg_folders import folder_options

    return Recipe(name="ignore", dataset="mask-folder", arch="facade-fcn", arch_options={"widths": [8, 8, 8, 8, 8]},
                  metrics=["pixel-accuracy", "dice", "per-class-ap", "per-class-iou"], epochs=1, lr=1e-2, bs=4,
                  valid="0.25", data_options=folder_options(root), figures=False)


def cam_recipe(fashion_mnist_dir, **changes) -> Recipe:
    """cam-cnn on 512 training and 256 test canvases: seconds, yet well above chance; no report figures."""
    settings = dict(name="tiny-cam", dataset="placed-fashion-mnist", arch="cam-cnn",
                    metrics=["accuracy", "per-class-accuracy"], epochs=3, lr=1e-2, bs=64, limit=512,
                    keep_best=2, log_every=3,
                    data_options={"path": str(fashion_mnist_dir)}, eval_limit=256, figures=False)
    return Recipe(**{**settings, **changes})


def copy_run(folder: Path, into: Path) -> Path:
    """A copy of run folder `folder` under `into`, for a test that writes into it."""
    return Path(shutil.copytree(folder, into / folder.name))


def folder_state(folder: Path) -> dict:
    """Every file under `folder` with its size and modification time: what a write would change."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def save_pngs(images, folder: Path, names) -> list[Path]:
    """uint8 `(H, W)` images written as PNG files under `folder` with the given relative names."""
    paths = []
    for image, name in zip(images, names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.numpy()).save(path)
        paths.append(path)
    return paths
