"""Imbalanced data: class counts per split in data.json, the warning, balance=weights|sampler, and loss
weights by class name."""
import json

import numpy as np
import pytest
import torch
from helpers.image_folders import LEVELS, save
from helpers.seg_folders import folder_options, make_root

from fashionseg import FashionsegError, Recipe
from fashionseg.build.learner import build_data, build_learner, warn_if_imbalanced
from fashionseg.data.balance import loss_weights

COUNTS = {"1": 44, "2": 4, "10": 2}


def skewed_tree(root, counts=COUNTS, test=2):
    for name, n in counts.items():
        for i in range(n):
            save(root / "train" / name / f"{i}.png", LEVELS[name], (6, 6))
        for i in range(test):
            save(root / "test" / name / f"{i}.png", LEVELS[name], (6, 6))
    return root


def recipe(root, loss_options=None, **options):
    return Recipe(name="b", dataset="image-folder", arch="cam-fast-cnn", bs=8, arch_options={"widths": [4, 8]}, epochs=1,
                  loss_options=loss_options or {}, data_options={"path": str(root), "augment": "none", **options})


def test_data_json_states_class_counts_per_split_and_training_warns(tmp_path, capsys):
    data = build_data(recipe(skewed_tree(tmp_path / "d")), on="cpu")
    summary = json.loads(json.dumps(data.summary()))
    assert summary["class_counts"]["train"] == COUNTS
    assert summary["class_counts"]["valid"] == summary["class_counts"]["test"] == {"1": 2, "2": 2, "10": 2}
    assert summary["class_count_unit"] == "items"
    capsys.readouterr()
    warn_if_imbalanced(data)
    out = capsys.readouterr().out
    assert "imbalanced: '1' has 44 and '10' 2" in out and "data_options.balance" in out
    even = build_data(recipe(skewed_tree(tmp_path / "e", {"1": 20, "2": 4, "10": 2})), on="cpu")
    warn_if_imbalanced(even)  # 10x exactly: no warning
    assert "imbalanced" not in capsys.readouterr().out


def test_loss_weights_are_inverse_or_effective_number_frequencies():
    inverse = loss_weights([40, 4, 2])
    assert inverse == pytest.approx(np.array([1 / 40, 1 / 4, 1 / 2]) * 3 / (1 / 40 + 1 / 4 + 1 / 2))
    effective = loss_weights([40, 4, 2], beta=0.9)
    e = (1 - 0.9 ** np.array([40, 4, 2])) / 0.1
    assert effective == pytest.approx((1 / e) * 3 / (1 / e).sum())
    assert effective[2] / effective[0] < inverse[2] / inverse[0]  # effective numbers: a milder boost for the rare class


def test_balance_weights_reach_the_loss(tmp_path):
    built = build_learner(recipe(skewed_tree(tmp_path / "d"), balance="weights"))
    weight = built.learn.loss_func.func.weight
    assert weight.tolist() == pytest.approx(loss_weights([44, 4, 2]))
    assert built.data.summary()["class_weights"] == pytest.approx(weight.tolist())


def test_balance_sampler_draws_classes_evenly(tmp_path):
    data = build_data(recipe(skewed_tree(tmp_path / "d"), balance="sampler"), on="cpu")
    torch.manual_seed(0)
    np.random.seed(0)
    drawn = torch.cat([y for _ in range(20) for _, y in data.dls.train])
    share = torch.bincount(drawn, minlength=3).double() / len(drawn)
    assert share.tolist() == pytest.approx([1 / 3] * 3, abs=0.06)  # without it: 0.88, 0.08, 0.04
    assert len(data.dls.valid.dataset) == 6  # validation is not resampled


def test_loss_weight_by_class_name(tmp_path):
    root = skewed_tree(tmp_path / "d")
    built = build_learner(recipe(root, loss_options={"weight": {"10": 5.0, "1": 0.5, "2": 2.0}}))
    assert built.learn.loss_func.func.weight.tolist() == [0.5, 2.0, 5.0]  # in class order 1, 2, 10
    with pytest.raises(FashionsegError, match="unknown class '100'"):
        build_learner(recipe(root, loss_options={"weight": {"100": 1.0, "1": 1.0, "2": 1.0}}))
    with pytest.raises(FashionsegError, match="no weight for class '10'"):
        build_learner(recipe(root, loss_options={"weight": {"1": 1.0, "2": 1.0}}))
    with pytest.raises(FashionsegError, match="both set the class weights"):
        build_learner(recipe(root, loss_options={"weight": [1, 1, 1]}, balance="weights"))
    with pytest.raises(FashionsegError, match="balance must be one of none, weights, sampler"):
        build_data(recipe(root, balance="oversample"), on="cpu")


def test_segmentation_counts_pixels_and_balances_by_weights(tmp_path):
    root = make_root(tmp_path / "seg")
    def seg(balance):
        return Recipe(name="s", dataset="mask-folder", arch="unet", bs=4,
                      data_options={**folder_options(root), "balance": balance})

    data = build_data(seg("weights"), on="cpu")
    counts = data.summary()["class_counts"]["train"]
    assert data.summary()["class_count_unit"] == "pixels"
    assert sum(counts.values()) == 12 * (24 - 3) * 20  # every pixel but the ignored band of each mask
    assert data.class_weights == pytest.approx(loss_weights(list(counts.values())))
    with pytest.raises(FashionsegError, match="sampler .* is for classification"):
        build_data(seg("sampler"), on="cpu")


@pytest.mark.slow
def test_the_report_gives_the_class_counts(tmp_path, runs_dir):
    import io

    from rich.console import Console

    from fashionseg.engine.trainer import run

    root = skewed_tree(tmp_path / "d")
    result = run(recipe(root, balance="weights"), runs_dir=runs_dir, console=Console(file=io.StringIO()))
    report = (result.run.path / "report.md").read_text()
    assert "Class counts (items)" in report and "| 10 | 2 | 2 | 2 |" in report.replace("  ", " ")
    assert json.loads((result.run.path / "data.json").read_text())["class_counts"]["train"] == COUNTS
