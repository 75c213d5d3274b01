"""Masks may hold an ignore value (255): it trains, and loss and metrics leave those pixels out."""
import numpy as np
import pytest
import torch
from helpers.seg_folders import folder_options, make_root
from sklearn.metrics import average_precision_score

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data
from fashionseg.infer.trained import load_run


def tiny_recipe(root, **changes):
    return Recipe(name="ignore", dataset="mask-folder", arch="facade-fcn", arch_options={"widths": [8, 8, 8, 8, 8]},
                  metrics=["pixel-accuracy", "dice", "per-class-ap", "per-class-iou"], epochs=1, lr=1e-2, bs=4,
                  valid="0.25", data_options=folder_options(root, **changes.pop("data_options", {})), **changes)


@pytest.mark.slow
def test_masks_with_ignored_pixels_train_with_a_finite_loss(mask_run):
    root, recipe, result = mask_run  # trained on masks with an ignored band: tiny_recipe(root), as a session run
    assert recipe == tiny_recipe(root)
    data = build_data(recipe, on="cpu")
    assert all(bool((yb == 255).any()) for _, yb in data.dls.train)  # every training batch holds ignored pixels
    last_epoch = result.run.read_csv("metrics.csv")[-1]
    assert np.isfinite(result.results["test_loss"]) and np.isfinite(float(last_epoch["train_loss"]))
    assert result.run.read_json("data.json")["ignore_index"] == 255


@pytest.mark.slow
def test_metrics_equal_those_on_the_kept_pixels(mask_run):
    root, recipe, result = mask_run
    data = build_data(recipe, on="cpu")
    model = load_run(result.run.path, on="cpu").model
    probs, targets = [], []
    with torch.no_grad():
        for xb, yb in data.test_dl:
            probs.append(model(xb).softmax(1))
            targets.append(yb.as_subclass(torch.Tensor))
    probs, targets = torch.cat(probs).movedim(1, -1).reshape(-1, 3), torch.cat(targets).reshape(-1)
    keep = targets != 255
    assert 0 < int(keep.sum()) < len(keep)
    probs, targets = probs[keep].numpy(), targets[keep].numpy()
    for c, name in enumerate(["sky", "wall", "door"]):
        expected = average_precision_score(targets == c, probs[:, c])
        assert result.results["ap"][name] == pytest.approx(expected, abs=1e-5)
        pred = probs.argmax(1)
        iou = ((pred == c) & (targets == c)).sum() / ((pred == c) | (targets == c)).sum()
        assert result.results["iou"][name] == pytest.approx(iou)
    assert result.results["pixel_accuracy"] == pytest.approx((probs.argmax(1) == targets).mean())


def test_only_the_ignore_value_passes_the_mask_check(tmp_path):
    root = make_root(tmp_path, n_train=4, n_test=0)
    with pytest.raises(FashionsegError, match="ignore value is None"):
        build_data(tiny_recipe(root, data_options={"ignore_index": None}), on="cpu")
    data = build_data(tiny_recipe(root, data_options={"ignore_index": 255}), on="cpu")
    assert data.ignore_index == 255 and data.summary()["ignore_index"] == 255
    with pytest.raises(FashionsegError, match="ignore_index must be None or an integer from 3"):
        build_data(tiny_recipe(root, data_options={"ignore_index": 2}), on="cpu")


def test_losses_leave_ignored_pixels_out():
    from fashionseg.models.losses import make_loss
    from fashionseg.registry.plugins import registry

    seg = registry().task("segmentation")
    logits, targets = torch.randn(2, 3, 4, 5), torch.randint(0, 3, (2, 4, 5))
    ignored = targets.clone()
    ignored[:, :2] = 255
    keep = ignored != 255
    flat = logits.movedim(1, -1)[keep]
    weight = torch.tensor([1.0, 4.0, 2.0])
    recipe = Recipe(name="x", dataset="mini-facade", arch="unet", loss_options={"weight": [1, 4, 2]})
    ce = make_loss(recipe, seg, ignore_index=255)(logits, ignored)
    assert float(ce) == pytest.approx(float(torch.nn.functional.cross_entropy(flat, targets[keep], weight=weight)))
    focal = make_loss(recipe.override(loss="focal"), seg, ignore_index=255)(logits, ignored)
    assert float(focal) == pytest.approx(float(make_loss(recipe.override(loss="focal"), seg)(
        flat.T[None, :, :, None], targets[keep][None, :, None])), rel=1e-5)
    dice_ce = make_loss(recipe.override(loss="dice-ce", loss_options={}), seg, ignore_index=255)(logits, ignored)
    assert np.isfinite(float(dice_ce))
    with pytest.raises(FashionsegError, match="cannot skip"):
        make_loss(recipe.override(loss="mse", loss_options={}), seg, ignore_index=255)
