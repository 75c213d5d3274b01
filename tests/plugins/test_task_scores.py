"""The scores every evaluation of a task reports, against scikit-learn and by hand."""
import math

import numpy as np
import pytest
import torch
from fashionseg_plugins.tasks.classification_scores import ClassScores, calibration
from fashionseg_plugins.tasks.segmentation import PixelScores
from sklearn import metrics

CLASSES = ["a", "b", "c", "d", "e", "f"]


def scored(n=240, seed=0, classes=CLASSES, absent=()):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(classes), n)
    y = np.where(np.isin(y, absent), 0, y)
    logits = rng.normal(0, 1, (n, len(classes))) + 2 * np.eye(len(classes))[y]
    probs = torch.from_numpy(logits).float().softmax(1)
    scores = ClassScores()
    for part in torch.arange(n).split(64):  # batch by batch, as the test pass feeds it
        scores.update(None, probs[part], torch.from_numpy(y)[part])
    return scores.result(classes), probs.numpy(), y


def test_classification_scores_are_scikit_learns():
    result, probs, y = scored()
    pred = probs.argmax(1)
    assert result["macro_f1"] == pytest.approx(metrics.f1_score(y, pred, average="macro"))
    assert result["weighted_precision"] == pytest.approx(metrics.precision_score(y, pred, average="weighted"))
    assert result["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(y, pred))
    assert result["top_3_accuracy"] == pytest.approx(metrics.top_k_accuracy_score(y, probs, k=3))
    assert result["top_5_accuracy"] > result["top_3_accuracy"] > 1 - np.mean(pred != y) - 1e-9
    for c, name in enumerate(CLASSES):
        assert result["recall"][name] == pytest.approx(np.mean(pred[y == c] == c))
        assert result["support"][name] == int((y == c).sum())
        assert result["roc_auc"][name] == pytest.approx(metrics.roc_auc_score(y == c, probs[:, c]))
        assert result["average_precision"][name] == pytest.approx(metrics.average_precision_score(y == c, probs[:, c]))
    assert np.array(result["confusion_matrix"]).sum() == len(y)


def test_a_class_without_items_has_support_0_no_recall_and_stays_out_of_the_averages():
    """Data holding a subset of the run's classes: averages over the classes it holds."""
    result, probs, y = scored(absent=(4,))
    assert result["support"]["e"] == 0 and math.isnan(result["roc_auc"]["e"]) and math.isnan(
        result["average_precision"]["e"]) and math.isnan(result["recall"]["e"])
    assert not math.isnan(result["macro_roc_auc"])
    present = [0, 1, 2, 3, 5]
    assert result["macro_f1"] == pytest.approx(metrics.f1_score(y, probs.argmax(1), labels=present, average="macro"))


def test_the_per_class_table_sums_the_support():
    from fashionseg.report.tables import class_means

    assert class_means({"recall": {"a": 0.5, "b": float("nan")}, "support": {"a": 3, "b": 0}}) == [0.5, 3]


def test_expected_calibration_error_hand_worked():
    # two items at confidence 0.9 (one right) and two at 0.6 (both right): |0.5 - 0.9| / 2 + |1 - 0.6| / 2
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    ece, rows = calibration(probs, np.array([0, 1, 0, 1]))
    assert ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    assert [n for _, _, n in rows] == [2, 2]


def test_pixel_scores_hand_worked_with_ignored_pixels():
    # targets a a b b (c ignored: 255) ; predictions a b b c
    targets = torch.tensor([[[0, 0, 1, 1, 255]]])
    probs = torch.nn.functional.one_hot(torch.tensor([[[0, 1, 1, 2, 0]]]), 3).permute(0, 3, 1, 2).float()
    scores = PixelScores()
    scores.update(None, probs, targets)
    result = scores.result(["a", "b", "c"])
    assert result["support"] == {"a": 2, "b": 2, "c": 0}
    assert result["precision"]["a"] == 1.0 and result["precision"]["b"] == 0.5 and result["precision"]["c"] == 0.0
    assert result["recall"]["a"] == 0.5 and result["recall"]["b"] == 0.5 and math.isnan(result["recall"]["c"])
    assert result["iou"] == pytest.approx({"a": 1 / 2, "b": 1 / 3, "c": 0.0})
    assert result["frequency_weighted_iou"] == pytest.approx(0.5 * 1 / 2 + 0.5 * 1 / 3)
    assert result["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [0, 0, 0]]
    assert set(result["ap"]) == {"a", "b", "c"}
