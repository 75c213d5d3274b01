"""A third-party regression task (float targets, one number per image), written as docs/plugins.md
teaches: the core asks the task which report sections it gets, whether flip TTA applies and what its
exported output means; config.json records the loss actually used; predictions CSV at full precision."""
import csv
import json
import sys

import pytest
import torch
from fastai.data.block import TransformBlock
from fastai.torch_core import TensorBase
from rich.console import Console
from torch import nn

import fashionseg
import fashionseg.registry.plugins as registry_module
from fashionseg.plugin import (
    Architecture,
    BatchIndexDL,
    Data,
    Dataset,
    FashionsegError,
    ImageTensorBlock,
    IndexInto,
    Metric,
    Recipe,
    Section,
    Task,
    hookimpl,
    tensor_dataloaders,
)

pytestmark = pytest.mark.slow  # every test here trains, or refuses to


def brightness_images(n: int, seed: int):
    """8x8 grey images of random brightness; the target is their mean brightness in [0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    level = torch.rand(n, generator=gen)
    images = (level.view(n, 1, 1, 1) * 200 + torch.randint(0, 40, (n, 1, 8, 8), generator=gen)).to(torch.uint8)
    return images, (images.float().mean((1, 2, 3)) / 255).view(n, 1)


def brightness_data(request) -> Data:
    images, targets = brightness_images(500, seed=0)
    y_block = TransformBlock(type_tfms=IndexInto(targets, TensorBase), dl_type=BatchIndexDL)
    dls = tensor_dataloaders(request, ImageTensorBlock(images), y_block, 400, 100, ([0.5], [0.3]), "none")
    return Data(dls, ["brightness"], "brightness", n_in=1, input_size=(8, 8), stats=([0.5], [0.3]))


class AbsoluteError:
    """Final metric: mean absolute error, overall and for dark and bright images (a dict, as per-class
    metrics are: the task's report leaves out the per-class table all the same)."""

    def __init__(self):
        self.errors, self.targets = [], []

    def update(self, values, targets):
        self.errors.append((values - targets).abs().flatten().cpu())
        self.targets.append(targets.flatten().cpu())

    def result(self, classes):
        errors, targets = torch.cat(self.errors), torch.cat(self.targets)
        dark = targets < 0.5
        return {"mae": float(errors.mean()),
                "mae_by_level": {"dark": float(errors[dark].mean()), "bright": float(errors[~dark].mean())}}


class Brightness(Task):
    name = "brightness"
    description = "One number per image: its mean brightness."
    default_loss = "mse"
    flips = False  # (brightness does not mirror; declared so to check the core asks)
    report_sections = frozenset()  # no classes: no per-class table; one forward pass, no test-time table

    def probabilities(self, output):
        return output.float()  # values, not probabilities

    def targets(self, yb):
        return yb.as_subclass(torch.Tensor).float()

    def predict_batch(self, model, x, summary, sizes):
        return [float(v) for v in model(x).float().flatten()]

    def describe(self, prediction, summary):
        return Section("brightness", ["what", "value"], [["brightness", prediction]])  # a number stays a number

    def output(self, n_classes):
        return {"name": "brightness", "shape": ["batch", 1], "meaning": "mean brightness of the image, 0 to 1"}


# The plugin is this module itself, as a plugin package's registration module would be.
@hookimpl
def fashionseg_tasks():
    return [Brightness()]


@hookimpl
def fashionseg_datasets():
    return [Dataset("brightness", brightness_data, task="brightness")]


def brightness_mlp(n_classes, n_in=1):
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in * 64, 16), nn.ReLU(), nn.Linear(16, n_classes))


@hookimpl
def fashionseg_architectures():
    return [Architecture("brightness-mlp", brightness_mlp, task="brightness", description="MLP", input_size=(8, 8))]


@hookimpl
def fashionseg_metrics():
    return [Metric("mae", AbsoluteError, task="brightness", description="mean absolute error", stage="final")]


@pytest.fixture
def with_plugin(monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry_module.load_plugins([sys.modules[__name__]]))


def recipe(**changes):
    settings = dict(name="brightness", dataset="brightness", arch="brightness-mlp", metrics=["mae"], epochs=10,
                    lr=3e-2, bs=50, valid="0.2")
    return Recipe(**{**settings, **changes})


@pytest.fixture
def trained(with_plugin, tmp_path):
    from fashionseg.engine.trainer import run

    console = Console(record=True, width=200)
    return run(recipe(), runs_dir=tmp_path / "runs", console=console), console


def test_the_report_has_the_tasks_sections_only_and_the_loss_by_name(trained):
    result, console = trained
    folder = result.run.path
    report, shown = (folder / "report.md").read_text(), console.export_text()
    assert result.results["mae"] < 0.1
    for absent in ("Per class", "mean over classes", "Test-time inference", "flip TTA"):
        assert absent not in report and absent not in shown
    config = json.loads((folder / "config.json").read_text())
    assert config["loss"] == "mse" and "| loss | `mse` |" in report  # the task's default, by name


def test_flip_tta_is_refused_for_a_task_that_does_not_mirror(with_plugin, tmp_path):
    from fashionseg.engine.trainer import run

    with pytest.raises(FashionsegError, match="task 'brightness' predicts nothing that mirrors, so leave tta off"):
        run(recipe(tta=True), runs_dir=tmp_path / "runs", console=Console(quiet=True))
    assert not (tmp_path / "runs").exists()


def test_export_says_what_the_task_outputs_and_the_csv_holds_full_precision(trained, tmp_path, capsys):
    from PIL import Image

    from fashionseg.cli import main
    from fashionseg.infer.export import export_run

    result, _ = trained
    _, described, _ = export_run(result.run.path, "torchscript", tmp_path / "model.pt")
    assert json.loads(described.read_text())["output"] == Brightness().output(1)
    images, _ = brightness_images(3, seed=5)
    paths = []
    for i, image in enumerate(images):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(image[0].numpy()).save(paths[-1])
    assert main(["predict", str(result.run.path), *map(str, paths), "--csv", str(tmp_path / "out.csv")]) == 0
    with open(tmp_path / "out.csv") as f:
        values = [row["brightness"] for row in csv.DictReader(f)]
    expected = [float(p) for p in fashionseg.load_run(result.run.path).predict(paths)]
    assert [float(v) for v in values] == pytest.approx(expected, abs=1e-6)
    assert all(len(v.split(".")[1]) > 6 for v in values)  # the number itself, not a 4-decimal display string
