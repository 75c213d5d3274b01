"""Flip TTA and sliding-window inference: exact where they must be, and used by the final evaluation."""
import io

import pytest
import torch
from rich.console import Console
from helpers.seg_folders import folder_options, make_root
from torch import nn

from fashionseg import FashionsegError, Recipe
from fashionseg.build.checks import check_recipe, final_evaluators
from fashionseg.build.learner import build_data, build_model
from fashionseg.engine.trainer import run
from fashionseg.infer.evaluate import evaluate
from fashionseg.infer.tta import flip_tta, sliding_window, starts, test_time_forward
from fashionseg.registry.plugins import registry


def conv_net(kernel=1, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, kernel, padding=kernel // 2), nn.ReLU(), nn.Conv2d(8, 4, 1)).eval()


@torch.no_grad()
def test_a_tile_covering_the_image_equals_the_plain_forward():
    model, x = conv_net(3), torch.randn(2, 3, 20, 14)
    expected = model(x).softmax(1)
    assert torch.allclose(sliding_window(model, x, (20, 14)).softmax(1), expected, atol=1e-6)


@torch.no_grad()
@pytest.mark.parametrize("tile,overlap", [(8, 0.5), (6, 0.25), ((7, 5), 0.0)])
def test_overlapping_tiles_of_a_pointwise_model_equal_the_plain_forward(tile, overlap):
    model, x = conv_net(1), torch.randn(2, 3, 21, 17)
    out = sliding_window(model, x, tile, overlap)
    assert out.shape == (2, 4, 21, 17)
    assert torch.allclose(out.softmax(1), model(x).softmax(1), atol=1e-5)


@torch.no_grad()
def test_an_image_smaller_than_the_tile_is_padded_and_cropped_back():
    model, x = conv_net(1), torch.randn(1, 3, 5, 9)
    out = sliding_window(model, x, 16)
    assert out.shape == (1, 4, 5, 9) and torch.allclose(out.softmax(1), model(x).softmax(1), atol=1e-5)


def test_tiles_reach_the_far_edge():
    assert starts(21, 8, 4) == [0, 4, 8, 12, 13] and starts(8, 8, 4) == [0]


@torch.no_grad()
def test_flip_tta_of_a_flip_invariant_model_is_the_plain_output():
    seg = conv_net(1)  # pointwise: flipping the input flips the map
    x = torch.randn(2, 3, 10, 12)
    assert torch.allclose(flip_tta(seg, x).softmax(1), seg(x).softmax(1), atol=1e-6)
    pooled = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 5)).eval()  # a classifier blind to flips
    assert torch.allclose(flip_tta(pooled, x).softmax(1), pooled(x).softmax(1), atol=1e-6)
    sided = nn.Sequential(conv_net(3), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()  # 3x3 kernels tell left from right
    assert not torch.allclose(flip_tta(sided, x).softmax(1), sided(x).softmax(1), atol=1e-4)


def test_plain_settings_keep_the_plain_forward_and_tile_is_for_score_maps():
    assert test_time_forward(False, 0) is None
    with pytest.raises(FashionsegError, match="tile .* needs score maps"):
        check_recipe(Recipe(name="x", dataset="fashion-mnist", arch="seed000-cnn", tile=8))
    with pytest.raises(FashionsegError, match="overlap must be"):
        Recipe(name="x", dataset="fashion-mnist", arch="seed000-cnn", overlap=1.0)


def tiny_recipe(root, **changes):
    return Recipe(name="tta", dataset="mask-folder", arch="facade-fcn", arch_options={"widths": [8, 8, 8, 8, 8]},
                  metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"], epochs=1, lr=1e-2, bs=4,
                  valid="0.25", data_options=folder_options(root), **changes)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory.mktemp("tta"))


def reevaluate(result, recipe, **inference):
    """The run's saved weights on its test set, predicted with `inference` settings (the model as
    trained: without the input resizing `model_from_run` adds, which would resize each tile)."""
    data = build_data(recipe, on="cpu")
    model = result.run.load_weights(build_model(recipe, len(data.classes), data.n_in), "model.pth").eval()
    forward = test_time_forward(**inference)
    return evaluate(model, data.test_dl, final_evaluators(recipe), data.classes,
                    task=registry().task("segmentation"), forward=forward)


@pytest.mark.slow
@pytest.mark.parametrize("changes", [{"tta": True}, {"tile": 16, "overlap": 0.5}])
def test_a_run_with_tta_or_tiles_records_them_and_its_metrics_differ_from_the_plain_ones(root, changes, tmp_path):
    recipe = tiny_recipe(root, **changes)
    result = run(recipe, runs_dir=tmp_path, console=Console(file=io.StringIO()))
    metrics = result.run.read_json("metrics.json")
    assert metrics["inference"]["flip_tta"] == changes.get("tta", False)
    assert metrics["inference"]["tile"] == changes.get("tile", 0)
    assert "Test-time inference" in (result.run.path / "report.md").read_text()
    plain = reevaluate(result, recipe)
    same = reevaluate(result, recipe, tta=recipe.tta, tile=recipe.tile, overlap=recipe.overlap)
    assert same["mean_ap"] == pytest.approx(metrics["mean_ap"], abs=1e-6)
    assert plain["mean_ap"] != pytest.approx(metrics["mean_ap"], abs=1e-6)


@pytest.mark.slow
def test_a_classification_run_with_tta_evaluates_the_test_set_with_flips(fashion_mnist_dir, tmp_path):
    recipe = Recipe(name="ctta", dataset="fashion-mnist", arch="seed000-cnn",
                    metrics=["accuracy", "per-class-accuracy"], epochs=1, bs=64, limit=512, eval_limit=300, lr=3e-3, tta=True)
    result = run(recipe, runs_dir=tmp_path, console=Console(file=io.StringIO()))
    metrics = result.run.read_json("metrics.json")
    assert metrics["inference"] == {"flip_tta": True, "tile": 0, "overlap": None}
    data = build_data(recipe, on="cpu")
    model = result.run.load_weights(build_model(recipe, len(data.classes), data.n_in), "model.pth").eval()
    task, loss = registry().task("classification"), result.learner.loss_func
    again = evaluate(model, data.test_dl, final_evaluators(recipe), data.classes, loss, task=task,
                     forward=test_time_forward(tta=True))
    plain = evaluate(model, data.test_dl, final_evaluators(recipe), data.classes, loss, task=task)
    assert again["test_loss"] == pytest.approx(metrics["test_loss"], abs=1e-5)
    assert plain["test_loss"] != pytest.approx(metrics["test_loss"], abs=1e-4)


def test_tta_without_flipped_training_is_flagged():
    from fashionseg.infer.tta import unflipped_tta_note

    note = unflipped_tta_note(True, "none")
    assert note and "never mirrored" in note and "add flip to data_options.augment" in note
    assert unflipped_tta_note(True, "shift4-erase") is not None
    assert unflipped_tta_note(True, "crop0.5-rot15") is not None  # kornia parts mirror nothing
    for trained_flipped in ("flip", "flip-shift4", "light", "fastai", "shift-flip-erase", "classify", "segment"):
        assert unflipped_tta_note(True, trained_flipped) is None
    assert unflipped_tta_note(False, "none") is None
