"""Seeing training happen: predictions on fixed validation images at chosen epochs, and their grid."""
import io

import numpy as np
import pytest
from helpers.callbacks import StopInEpoch
from helpers.seg_folders import folder_options, make_root
from PIL import Image
from rich.console import Console

from fashionseg import FashionsegError, Recipe
from fashionseg.callbacks.snapshots import snapshot_grid
from fashionseg.engine.trainer import resume_run, run
from fashionseg.run_folders.folder import RunFolder


def grid_shape(fig):
    """(rows, columns) of a figure's subplot grid."""
    return fig.axes[0].get_subplotspec().get_gridspec().get_geometry()


def mask_recipe(tmp_path, name: str, show_items: int) -> Recipe:
    """A tiny FCN on 12 generated mask-folder pairs, snapshots of `show_items` images at epochs 0 and 1."""
    root = make_root(tmp_path / "data", n_train=12, n_test=4)
    return Recipe(name=name, dataset="mask-folder", arch="facade-fcn", arch_options={"widths": [8, 8, 8, 8, 8]},
                  epochs=2, lr=1e-2, bs=4, valid="0.25", data_options=folder_options(root), show_epochs=[0, 1],
                  show_items=show_items)


@pytest.mark.slow
def test_a_segmentation_run_saves_masks_at_the_chosen_epochs_and_draws_the_grid(tmp_path):
    recipe = mask_recipe(tmp_path, "snap", 3)
    result = run(recipe, runs_dir=tmp_path / "runs", console=Console(file=io.StringIO()))
    folder = result.run.path
    for epoch in (0, 1):
        masks = [np.array(Image.open(folder / "snapshots" / f"epoch-{epoch}" / f"item-{i}.png")) for i in range(3)]
        assert all(m.shape == (24, 20) and m.max() < 3 for m in masks)
    assert not (folder / "snapshots" / "epoch-0" / "item-3.png").exists()
    assert len(list((folder / "snapshots").glob("epoch-*"))) == 2
    fig = snapshot_grid(RunFolder.open(folder), list(recipe.data_options["classes"]))
    assert grid_shape(fig) == (3, 4)  # input, truth, epoch 0, epoch 1
    assert "figures/training_snapshots.png" in (folder / "report.md").read_text()
    assert (folder / "figures" / "training_snapshots.png").is_file()


@pytest.mark.slow
def test_a_classification_run_saves_the_top3_labels_per_epoch(fashion_mnist_dir, tmp_path):
    recipe = Recipe(name="snapcls", dataset="fashion-mnist", arch="seed000-cnn", epochs=2, bs=64, limit=256,
                    eval_limit=64, show_epochs=[1], show_items=5)
    result = run(recipe, runs_dir=tmp_path, console=Console(file=io.StringIO()))
    rows = result.run.read_csv("snapshots/top3.csv")
    assert [(r["epoch"], r["item"]) for r in rows] == [(1, i) for i in range(5)]
    assert all(r["p1"] >= r["p2"] >= r["p3"] and r["label1"] != r["label2"] for r in rows)
    fig = snapshot_grid(result.run, result.run.read_json("data.json")["classes"])
    assert grid_shape(fig) == (5, 2)  # input, epoch 1
    assert "figures/training_snapshots.png" in (result.run.path / "report.md").read_text()


def test_show_epochs_must_be_epochs_of_the_run():
    with pytest.raises(FashionsegError, match="show_epochs names epoch 5"):
        Recipe(name="x", dataset="fashion-mnist", arch="seed000-cnn", epochs=5, show_epochs=[0, 5])


@pytest.mark.slow
def test_a_resumed_run_keeps_the_snapshots_saved_before_the_stop(tmp_path):
    recipe = mask_recipe(tmp_path, "snapres", 2)
    with pytest.raises(KeyboardInterrupt):
        run(recipe, runs_dir=tmp_path / "runs", console=Console(file=io.StringIO()), cbs=[StopInEpoch(1)])
    (folder,) = (tmp_path / "runs").iterdir()
    saved = folder / "snapshots" / "epoch-0" / "item-0.png"
    before = saved.stat().st_ino
    resume_run(folder, console=Console(file=io.StringIO()))
    assert saved.stat().st_ino == before  # not written again when the resumed fit skips epoch 0
    assert grid_shape(snapshot_grid(RunFolder.open(folder), list(recipe.data_options["classes"]))) == (2, 4)
