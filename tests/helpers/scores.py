"""A run's recorded test metrics against the same run scored again from its folder."""
import pytest
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
                                  loaded.task, loaded.recipe, loaded.task.observers(loaded.data))
    printed = ensemble_report(loaded, None, Console(quiet=True))["final weights"]
    return results, printed
