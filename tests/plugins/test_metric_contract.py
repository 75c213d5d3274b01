"""The metric contract. Epoch metrics: any fastai metric, including accumulating ones
(`skm_to_fastai(...)`, `F1Score`, `RocAuc`), trains, shows every epoch in metrics.csv and is computed
once more on the test set for metrics.json, with the value scikit-learn gives on the model's test
predictions. Final metrics: scalars and {class: value} dicts from `result` reach metrics.json and
the report's tables."""
import csv
import json

import pytest
import sklearn.metrics as skm
import torch
from fastai.metrics import F1Score, RocAuc, skm_to_fastai
from rich.console import Console

import fashionseg.registry.plugins as registry_module
from fashionseg import Metric, Recipe, hookimpl


def macro_f1():
    """scikit-learn's macro F1 through fastai's adapter (an `AccumMetric` named after the function)."""
    return skm_to_fastai(skm.f1_score, average="macro")


def fastai_f1():
    """fastai's own F1Score; renamed, as it would otherwise share the column `f1_score` with macro_f1."""
    metric = F1Score(average="macro")
    metric.name = "fastai_f1"
    return metric


class PerClassF1:
    """A final metric: macro F1 and each class's F1 from the test set's top-class predictions."""

    def __init__(self):
        self.preds, self.targets = [], []

    def update(self, probs, targets):
        self.preds.append(probs.argmax(1).cpu())
        self.targets.append(targets.cpu())

    def result(self, classes):
        per_class = skm.f1_score(torch.cat(self.targets), torch.cat(self.preds), average=None,
                                 labels=range(len(classes)), zero_division=0)
        return {"final_macro_f1": float(per_class.mean()), "f1": dict(zip(classes, map(float, per_class)))}


class AccumulatingMetrics:
    """A test plugin contributing three accumulating fastai metrics as epoch metrics."""

    @staticmethod
    @hookimpl
    def fashionseg_metrics():
        return [Metric("skm-macro-f1", macro_f1, task="classification", description="sklearn macro F1"),
                Metric("fastai-f1", fastai_f1, task="classification", description="fastai F1Score"),
                Metric("roc-auc", lambda: RocAuc(), task="classification", description="fastai RocAuc (ovr)"),
                Metric("per-class-f1", PerClassF1, task="classification", description="F1 per class", stage="final")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fashion_mnist_dir):
    """One epoch of seed000-cnn on 512 Fashion-MNIST images, validated and tested on 256."""
    from fashionseg.engine.trainer import run

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registry_module, "_default", registry_module.load_plugins([AccumulatingMetrics]))
        recipe = Recipe(name="accum", dataset="fashion-mnist", arch="seed000-cnn", epochs=1, bs=128, lr=3e-3,
                        limit=512, eval_limit=256, metrics=["accuracy", "skm-macro-f1", "fastai-f1", "roc-auc", "per-class-f1"])
        return run(recipe, runs_dir=tmp_path_factory.mktemp("runs"), console=Console(quiet=True))


@pytest.mark.slow
def test_accumulating_metrics_show_every_epoch(trained):
    with open(trained.run.path / "metrics.csv") as f:
        (row,) = list(csv.DictReader(f))
    for name in ("f1_score", "fastai_f1", "roc_auc_score"):
        assert 0 <= float(row[name]) <= 1, (name, row)


@pytest.mark.slow
def test_accumulating_metrics_are_computed_on_the_test_set(trained):
    metrics = json.loads((trained.run.path / "metrics.json").read_text())
    for name in ("f1_score", "fastai_f1", "roc_auc_score"):
        assert 0 <= metrics[name] <= 1, (name, metrics)
    assert metrics["roc_auc_score"] > 0.5  # one epoch is well above chance


@pytest.mark.slow
def test_the_test_value_is_what_scikit_learn_computes_on_the_test_predictions(trained):
    from fashionseg.infer.evaluate import predict_batches

    learn = trained.learner
    preds, targets = [], []
    for _, logits, yb in predict_batches(learn.model, learn.dls.valid):  # valid="test": the test set
        preds.append(logits.argmax(1).cpu())
        targets.append(yb.cpu())
    preds, targets = torch.cat(preds).numpy(), torch.cat(targets).numpy()
    assert len(targets) == 256
    expected = skm.f1_score(targets, preds, average="macro")
    metrics = json.loads((trained.run.path / "metrics.json").read_text())
    assert metrics["f1_score"] == pytest.approx(expected, abs=1e-4)
    assert metrics["fastai_f1"] == pytest.approx(expected, abs=1e-4)


@pytest.mark.slow
def test_a_final_metrics_scalars_and_per_class_values_reach_the_report(trained):
    metrics = json.loads((trained.run.path / "metrics.json").read_text())
    assert metrics["final_macro_f1"] == pytest.approx(metrics["f1_score"], abs=1e-6)  # the same test items
    assert list(metrics["f1"]) == list(trained.learner.dls.vocab) and all(0 <= v <= 1 for v in metrics["f1"].values())
    report = (trained.run.path / "report.md").read_text()
    assert "| final_macro_f1 |" in report and "| class | f1 |" in report
