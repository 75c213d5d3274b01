"""A short training run on real facade pairs (the session's `facade` run), its run folder, and `fashionseg predict`."""
import json

import pytest
import torch
from PIL import Image
from torch import nn

from fashionseg.cli import main
from fashionseg.data.images import read_image
from fashionseg.infer.trained import load_run
from fashionseg.models.resize import RunAtSize

FACADE_RGB = {(0, 0, 0), (0, 128, 255), (128, 255, 128), (255, 128, 0), (255, 0, 0)}


@pytest.fixture
def trained(facade):
    """The session's facade run: a U-Net trained briefly at low resolution on 32 real training pairs, tested on
    8 test_dev pairs (helpers.runs.facade_recipe)."""
    return facade[0]


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_predict_colours_an_odd_sized_photo_in_class_colours(trained, facade_root, tmp_path, capsys):
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
    assert main(["predict", str(trained.run.path), str(photo), "--out", str(tmp_path / "x.png"), "--blend", "1.5"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_cli_writes_a_blended_png_of_the_photo_size(trained, facade_root, tmp_path, capsys, monkeypatch):
    # the CLI's main in this process; engine/test_training.py runs `fashionseg predict` in a new process
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "blended.png"
    code = main(["predict", str(trained.run.path), str(facade_root / "test_dev" / "eecs442_0003.jpg"), "--out", str(out),
                 "--blend", "0.4"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "facade" in printed.out and "wrote" in printed.out
    with Image.open(out) as picture:
        assert picture.format == "PNG" and picture.size == (256, 256) and picture.mode == "RGB"
        colours = {c for _, c in picture.getcolors(maxcolors=1 << 20)}
    assert len(colours) > 50 and not colours <= FACADE_RGB  # the photo shows through


@pytest.mark.slow
def test_predict_cli_rejects_a_file_that_is_not_an_image(trained, tmp_path, capsys):
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture\n")
    assert main(["predict", str(trained.run.path), str(notes)]) == 2
    err = capsys.readouterr().err
    assert "is not an image" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
