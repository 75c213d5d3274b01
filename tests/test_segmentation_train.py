"""A short training run on real facade pairs, its run folder, and `fashionseg predict`."""
import io
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from PIL import Image
from rich.console import Console
from testdata import REPO, need_data
from torch import nn

from fashionseg import Recipe
from fashionseg.data.images import read_image
from fashionseg.engine.trainer import run
from fashionseg.infer.trained import load_run
from fashionseg.models.resize import RunAtSize

FACADE_RGB = {(0, 0, 0), (0, 128, 255), (128, 255, 128), (255, 128, 0), (255, 0, 0)}


@pytest.fixture(scope="module")
def facade_root():
    return need_data("mini-facade", ["train", "test_dev"])


@pytest.fixture(scope="module")
def trained(facade_root, tmp_path_factory):
    """A U-Net trained briefly at low resolution on 32 real training pairs, tested on 8 test_dev pairs."""
    small = tmp_path_factory.mktemp("mini-facade")
    for split, n in (("train", 32), ("test_dev", 8)):
        (small / split).mkdir()
        for i in range(n):
            for suffix in (".jpg", ".png"):
                shutil.copy(facade_root / split / f"eecs442_{i:04d}{suffix}", small / split)
    recipe = Recipe(
        name="tiny-facade", dataset="mini-facade", arch="unet",
        arch_options={"encoder": "resnet18", "decoder_channels": [32, 16, 8]},  # three stages: fast
        metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"],
        epochs=8, lr=3e-3, bs=8, valid="0.25", sizes=[[0, 48], [4, 64]],
        data_options={"path": str(small), "augment": "flip"},
    )
    result = run(recipe, runs_dir=tmp_path_factory.mktemp("runs"), console=Console(file=io.StringIO()))
    return result


def test_training_loss_falls_and_beats_chance(trained):
    rows = list(csv_rows(trained.run.path / "metrics.csv"))
    assert len(rows) == 8
    assert float(rows[-1]["train_loss"]) < 0.85 * float(rows[0]["train_loss"])
    # chance AP of a class is its pixel share, so the mean of chance APs is 1/5
    assert trained.results["mean_ap"] > 0.26  # 0.268 with this seed; 0.2 is chance
    assert trained.results["pixel_accuracy"] > 0.42


def csv_rows(path):
    import csv

    with open(path) as f:
        yield from csv.DictReader(f)


def test_run_folder_holds_what_predict_and_readers_need(trained):
    folder = trained.run.path
    info = json.loads((folder / "data.json").read_text())
    assert info["input_size"] == [64, 64] and info["image_size"] == [256, 256]
    assert info["classes"] == ["others", "facade", "pillar", "window", "balcony"] and len(info["stats"][0]) == 3
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["ap"]) == set(info["classes"]) == set(metrics["iou"])
    assert metrics["mean_ap"] == pytest.approx(sum(metrics["ap"].values()) / 5)
    with Image.open(folder / "figures" / "test_predictions.png") as panel:
        assert panel.format == "PNG" and panel.width > 500
    report = (folder / "report.md").read_text()
    assert "| **mean over classes** |" in report and "figures/test_predictions.png" in report


def test_progressive_resizing_switches_the_model_input_size():
    seen = []
    model = nn.Sequential(nn.Conv2d(3, 5, 1))
    model[0].register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape[-2:])))
    resizer = RunAtSize(model, 16)
    assert model(torch.randn(2, 3, 40, 30)).shape == (2, 5, 40, 30) and seen[-1] == (16, 16)
    resizer.size = (24, 20)
    model(torch.randn(1, 3, 40, 30))
    assert seen[-1] == (24, 20)
    resizer.remove()
    model(torch.randn(1, 3, 40, 30))
    assert seen[-1] == (40, 30)


def test_predict_colours_an_odd_sized_photo_in_class_colours(trained, facade_root, tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.open(facade_root / "test_dev" / "eecs442_0100.jpg").resize((250, 190)).save(photo)
    run = load_run(trained.run.path)
    image = read_image(photo, run.summary["n_in"])
    (mask,) = run.predict(image)
    assert mask.shape == (190, 250) and len(mask.unique()) >= 2
    out = run.task.save_prediction(mask, image, run.summary, tmp_path / "mask.png")
    with Image.open(out) as picture:
        assert picture.size == (250, 190)
        assert {c for _, c in picture.getcolors(maxcolors=1 << 20)} <= FACADE_RGB
    done = cli("predict", trained.run.path, photo, "--out", tmp_path / "x.png", "--blend", 1.5)
    assert done.returncode == 2 and "between 0 and 1" in done.stderr


def cli(*args):
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "fashionseg.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)


def test_predict_cli_writes_a_blended_png_of_the_photo_size(trained, facade_root, tmp_path):
    out = tmp_path / "blended.png"
    done = cli("predict", trained.run.path, facade_root / "test_dev" / "eecs442_0003.jpg", "--out", out, "--blend", 0.4)
    assert done.returncode == 0, done.stderr
    assert "facade" in done.stdout and "wrote" in done.stdout
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.size == (256, 256) and picture.mode == "RGB"
        colours = {c for _, c in picture.getcolors(maxcolors=1 << 20)}
    assert len(colours) > 50 and not colours <= FACADE_RGB  # the photo shows through


def test_predict_cli_rejects_a_file_that_is_not_an_image(trained, tmp_path):
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture\n")
    done = cli("predict", trained.run.path, notes)
    assert done.returncode == 2
    assert "is not an image" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
