"""The core is open: a further task (multi-label quadrants, beside the built-in multi-label), its data set, model and metrics come from a test
plugin, and train end to end through `fashionseg.train.run` with no change to the core."""
import json

import pytest
import torch
from fastai.data.block import TransformBlock
from fastai.metrics import accuracy_multi
from fastai.torch_core import TensorMultiCategory
from rich.console import Console
from torch import nn

import fashionseg.registry.plugins as registry_module
from fashionseg import Architecture, Data, Dataset, FashionsegError, Metric, Recipe, Section, Task, hookimpl
from fashionseg.data.tensor_block import BatchIndexDL, ImageTensorBlock, IndexInto, tensor_dataloaders

QUADRANTS = ["top-left", "top-right", "bottom-left", "bottom-right"]


def quadrant_images(n: int, seed: int):
    """8x8 grey images whose bright quadrants are the labels (several at once)."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.rand(n, 4, generator=gen) < 0.5
    images = torch.randint(0, 60, (n, 1, 8, 8), generator=gen, dtype=torch.uint8)
    for q, (rows, cols) in enumerate([(slice(0, 4), slice(0, 4)), (slice(0, 4), slice(4, 8)),
                                      (slice(4, 8), slice(0, 4)), (slice(4, 8), slice(4, 8))]):
        images[labels[:, q], :, rows, cols] += 150
    return images, labels.float()


def quadrants_data(request) -> Data:
    """600 training and 200 test images, multi-hot targets."""
    images, labels = quadrant_images(800, seed=0)
    y_block = TransformBlock(type_tfms=IndexInto(labels, TensorMultiCategory), dl_type=BatchIndexDL)
    dls = tensor_dataloaders(request, ImageTensorBlock(images), y_block, 600, 200, ([0.4], [0.3]),
                             request.options["augment"])
    return Data(dls, QUADRANTS, "quadrant-labels", n_in=1, input_size=(8, 8), stats=([0.4], [0.3]))


class LabelAccuracy:
    """Final metric: share of (image, label) pairs predicted right at threshold 0.5, per label too."""

    def __init__(self):
        self.right, self.count = torch.zeros(4), 0

    def update(self, probs, targets):
        self.right += ((probs > 0.5).float() == targets).float().sum(0).cpu()
        self.count += len(targets)

    def result(self, classes):
        per_label = (self.right / self.count).tolist()
        return {"label_accuracy": sum(per_label) / len(per_label), "per_label_accuracy": dict(zip(classes, per_label))}


class MultiLabel(Task):
    name = "quadrant-labels"
    description = "Several labels per image: one sigmoid per label."
    loss_axis = -1
    default_loss = "bce"

    def probabilities(self, output):
        return output.float().sigmoid()

    def targets(self, yb):
        return yb.as_subclass(torch.Tensor).float()

    def sections(self, results, data):
        return [Section("Labels", ["label", "accuracy"], [[k, v] for k, v in results["per_label_accuracy"].items()])]

    def predict(self, model, x, summary):
        return model(x).float().sigmoid()[0]


class ToyPlugin:
    @staticmethod
    @hookimpl
    def fashionseg_tasks():
        return [MultiLabel()]

    @staticmethod
    @hookimpl
    def fashionseg_datasets():
        return [Dataset("quadrants", quadrants_data, task="quadrant-labels", options={"augment": "none"})]

    @staticmethod
    @hookimpl
    def fashionseg_architectures():
        def tiny(n_classes, n_in=1):
            return nn.Sequential(nn.Flatten(), nn.Linear(n_in * 64, 32), nn.ReLU(), nn.Linear(32, n_classes))

        return [Architecture("quadrant-mlp", tiny, task="quadrant-labels", description="MLP", input_size=(8, 8))]

    @staticmethod
    @hookimpl
    def fashionseg_metrics():
        return [Metric("multi-accuracy", lambda: accuracy_multi, task="quadrant-labels", description="fastai's"),
                Metric("label-accuracy", LabelAccuracy, task="quadrant-labels", description="per label", stage="final")]


@pytest.fixture
def with_toy_plugin(monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry_module.load_plugins([ToyPlugin]))
    return registry_module.registry()


def recipe(**changes):
    settings = dict(name="quadrants", dataset="quadrants", arch="quadrant-mlp", metrics=["multi-accuracy", "label-accuracy"],
                    epochs=4, lr=3e-2, bs=50, valid="0.2")
    return Recipe(**{**settings, **changes})


def test_the_third_task_is_listed_with_its_plugin(with_toy_plugin):
    assert with_toy_plugin.names("task") == ["classification", "multi-label", "quadrant-labels", "segmentation"]
    assert with_toy_plugin.task("quadrant-labels").plugin == with_toy_plugin.pm.get_name(ToyPlugin)
    assert with_toy_plugin.names("architecture", task="quadrant-labels") == ["quadrant-mlp"]


@pytest.mark.slow
def test_a_multi_label_task_trains_end_to_end_through_the_core(with_toy_plugin, tmp_path):
    from fashionseg.engine.trainer import run
    from fashionseg.infer.predict import predict_image
    from fashionseg.infer.trained import load_run

    result = run(recipe(), runs_dir=tmp_path, console=Console(quiet=True))
    metrics = json.loads((result.run.path / "metrics.json").read_text())
    assert metrics["label_accuracy"] > 0.9 and set(metrics["per_label_accuracy"]) == set(QUADRANTS)
    assert metrics["valid_accuracy_multi"] > 0.9 and "accuracy_multi" in metrics  # the fastai metric, on test too
    assert metrics["sections"]["Labels"]["rows"][0][0] == "top-left"
    assert json.loads((result.run.path / "status.json").read_text())["state"] == "finished"
    assert "## Labels" in (result.run.path / "report.md").read_text()
    trained = load_run(result.run.path)  # the run folder alone rebuilds the model
    images, labels = quadrant_images(5, seed=9)
    probs = predict_image(trained, images[0])
    assert probs.shape == (4,) and ((probs > 0.5).float() == labels[0]).all()


@pytest.mark.slow
def test_commands_that_do_not_apply_to_a_task_say_so(with_toy_plugin, tmp_path):
    from fashionseg.engine.trainer import run
    from fashionseg.infer.trained import load_run

    result = run(recipe(epochs=1), runs_dir=tmp_path, console=Console(quiet=True))
    with pytest.raises(FashionsegError, match="quadrant-labels run; `fashionseg cam` applies"):
        load_run(result.run.path, command="cam")


def test_components_for_an_unknown_task_are_an_error_naming_the_plugin(monkeypatch):
    class Stray:
        @staticmethod
        @hookimpl
        def fashionseg_architectures():
            return [Architecture("stray", lambda n_classes, n_in: None, task="detection", description="x")]

    reg = registry_module.load_plugins([Stray])
    with pytest.raises(FashionsegError, match="'stray' of plugin .* is for task 'detection', which no installed"):
        reg.components("architecture")
