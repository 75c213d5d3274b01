"""`fashionseg evaluate`: a run scored again from its folder agrees with its own report, and on other data."""
import pytest
from helpers.runs import fashion_recipe, mask_folder_recipe, train
from helpers.seg_folders import make_root
from rich.console import Console

from fashionseg.analysis.ensemble import ensemble_report
from fashionseg.infer.evaluate import evaluate_as_trained
from fashionseg.infer.trained import load_run

NOT_TEST_METRICS = {"inference", "timings", "figures", "sections", "provenance", "plugins"}


def recorded_test_metrics(metrics: dict) -> dict:
    """metrics.json's test metrics: numbers and per-class tables (validation scores and records left out)."""
    return {k: v for k, v in metrics.items() if k not in NOT_TEST_METRICS and not k.startswith("valid_")}


def assert_same(recorded, again, path=""):
    if isinstance(recorded, dict):
        assert set(recorded) == set(again), path
        for k in recorded:
            assert_same(recorded[k], again[k], f"{path}.{k}")
    elif isinstance(recorded, list):
        assert recorded == again, path
    else:
        assert again == pytest.approx(recorded, abs=1e-6, nan_ok=True), path


def scored_again(path):
    """Every test metric of the run scored from its folder alone, and the scalars `fashionseg evaluate` prints."""
    loaded = load_run(path)
    results = evaluate_as_trained(loaded.model, loaded.data.test_dl, loaded.scoring(), loaded.data.classes,
                                  loaded.task, loaded.recipe)
    printed = ensemble_report(loaded, None, Console(quiet=True))["final weights"]
    return results, printed


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["classification", "segmentation"])
def test_evaluate_reproduces_every_test_metric_of_the_report(kind, fashion_mnist_dir, tmp_path):
    """Label smoothing and class weights change the loss; TTA and tiles the predictions: all must be redone."""
    if kind == "classification":
        recipe = fashion_recipe().override(label_smoothing=0.1, loss_options={"weight": [1.0 + i for i in range(10)]},
                                           tta=True, limit=256, eval_limit=96,
                                           metrics=["accuracy", "error-rate", "per-class-accuracy"])
    else:
        recipe = mask_folder_recipe(make_root(tmp_path / "masks", n_train=8, n_test=3)).override(
            label_smoothing=0.1, loss_options={"weight": [1.0, 2.0, 3.0]}, tile=12, overlap=0.5)
    run = train(recipe, tmp_path / "runs").run
    recorded = recorded_test_metrics(run.read_json("metrics.json"))
    assert recorded["test_loss"] > 0
    results, printed = scored_again(run.path)
    assert_same(recorded, recorded_test_metrics(results))
    assert printed["test_loss"] == pytest.approx(recorded["test_loss"], abs=1e-6)
