"""The folder-resnet101 recipe end to end on a small generated image folder (tiny images, three
classes): timm's ResNet-101, the 5 best-loss epochs kept, single against ensemble, t-SNE."""
import io
import json

import pytest
from rich.console import Console
from helpers.image_folders import class_tree

from fashionseg import FashionsegError
from fashionseg.engine.trainer import run
from fashionseg.registry.recipes import find_recipe


@pytest.mark.slow
def test_folder_resnet101_reports_single_against_ensemble_and_a_tsne(tmp_path, runs_dir):
    root = class_tree(tmp_path / "images", (("train", 6), ("test", 3)))
    recipe = find_recipe("folder-resnet101")
    assert (recipe.arch, recipe.keep_best, recipe.ensemble) == ("timm:resnet101", 5, 5)
    # ResNet-101's checkpoints are 170 MB each (last.pth 3x that): two epochs and two kept keep the test short
    recipe = recipe.override(epochs=2, keep_best=2, ensemble=2, bs=6,
                             data_options={"path": str(root), "image_size": 32, "augment": "flip"})
    out = io.StringIO()
    result = run(recipe, runs_dir=runs_dir, console=Console(file=out, width=200))
    folder = result.run.path
    metrics = json.loads((folder / "metrics.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    assert config["arch"] == "timm:resnet101" and config["keep_best"] == 2

    rows = metrics["ensemble"]["results"]
    assert metrics["ensemble"]["k"] == 2 and len(rows) == 3
    names = list(rows)
    assert names[0] == "final weights" and names[1].startswith("best single (epoch ")
    assert names[2].startswith("ensemble of 2 (epochs ")
    assert rows["final weights"]["accuracy"] == pytest.approx(result.results["accuracy"], abs=1e-6)
    assert all(0 <= r["accuracy"] <= 1 and r["test_loss"] > 0 for r in rows.values())

    tsne = metrics["embedding"]
    assert tsne["images"] == 9 and tsne["feature_dim"] == 2048  # all 9 test images, ResNet-101's pooled features
    assert (folder / tsne["figure"]).is_file()
    assert len((folder / "tsne.csv").read_text().splitlines()) == 1 + 9
    report = (folder / "report.md").read_text()
    assert "## Best-epoch ensembles" in report and "## t-SNE of learned features" in report
    assert "ensemble of 2" in out.getvalue()


def test_an_ensemble_needs_its_checkpoints_kept_and_trained():
    recipe = find_recipe("folder-resnet101")
    with pytest.raises(FashionsegError, match="keep_best=5"):
        recipe.override(keep_best=2)
    with pytest.raises(FashionsegError, match="at least that many"):
        recipe.override(epochs=3)


def test_tsne_is_refused_before_any_folder_where_there_are_no_features(runs_dir):
    recipe = find_recipe("facade-fast").override(tsne=100)
    with pytest.raises(FashionsegError, match="tsne applies to tasks that support embed"):
        run(recipe, runs_dir=runs_dir, console=Console(file=io.StringIO()))
    assert not runs_dir.exists()
