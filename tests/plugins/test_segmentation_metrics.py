"""Segmentation metrics: AP within 1e-4 of scikit-learn's in memory independent of the pixels, IoU and pixel
accuracy by hand."""
import math

import numpy as np
import pytest
import torch
from fashionseg_plugins.metrics.segmentation import PerClassAP, PerClassIoU
from sklearn.metrics import average_precision_score

CLASSES = ["a", "b", "c"]


def binned_ap(scores, labels) -> float:
    """The AP of one class's scores, as `PerClassAP` computes it from histograms (two classes: scores and their
    complement)."""
    ev = PerClassAP(exact_below=0)
    ev.update(torch.stack([1 - scores, scores], 1), labels.long())
    return ev.ap()[1]


def test_average_precision_hand_worked():
    # ranks: +, -, +, -  ->  precision 1 at recall 1/2, 2/3 at recall 1
    scores, labels = torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([True, False, True, False])
    assert binned_ap(scores, labels) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # a tie between a positive and a negative counts as one threshold: precision 1/2 at recall 1/2
    scores, labels = torch.tensor([0.5, 0.5, 0.2]), torch.tensor([True, False, True])
    assert binned_ap(scores, labels) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    assert binned_ap(torch.tensor([0.1, 0.9]), torch.tensor([False, True])) == 1.0
    assert binned_ap(torch.tensor([0.1, 0.9]), torch.tensor([False, False])) == 0.0


@pytest.mark.parametrize("n,quantised", [(1, False), (7, True), (500, False), (20000, False), (5000, True)])
def test_average_precision_is_within_1e_4_of_sklearn(n, quantised):
    rng = np.random.default_rng(n)
    for _ in range(10):
        labels = rng.random(n) < 0.3
        labels[rng.integers(n)] = True
        softmax_like = 1 / (1 + np.exp(-(rng.normal(0, 4, n) + 3 * labels)))  # crowded near 0 and 1
        scores = (rng.integers(0, 6, n) / 5 if quantised else softmax_like).astype(np.float32)
        expected = average_precision_score(labels, scores)
        assert binned_ap(torch.from_numpy(scores), torch.from_numpy(labels)) == pytest.approx(expected, abs=1e-4)


def random_batches(n_batches=3, n_classes=3, size=(6, 5), seed=0):
    gen = torch.Generator().manual_seed(seed)
    for _ in range(n_batches):
        logits = torch.randn(4, n_classes, *size, generator=gen) * 4
        yield logits.softmax(1), torch.randint(0, n_classes, (4, *size), generator=gen)


@pytest.mark.parametrize("exact_below", [0, 2 ** 22])
def test_streamed_per_class_ap_is_within_1e_4_of_sklearn_over_all_pixels(exact_below):
    ev = PerClassAP(exact_below=exact_below)
    batches = list(random_batches())
    for probs, targets in batches:
        ev.update(probs, targets)
    result = ev.result(CLASSES)
    probs = torch.cat([p for p, _ in batches]).permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    targets = torch.cat([t for _, t in batches]).reshape(-1).numpy()
    for c, name in enumerate(CLASSES):
        assert result["ap"][name] == pytest.approx(average_precision_score(targets == c, probs[:, c]), abs=1e-4)
    assert result["mean_ap"] == pytest.approx(np.mean(list(result["ap"].values())))


def test_per_class_ap_memory_does_not_grow_with_the_pixels():
    """Scores kept up to the budget (exact), then histograms of a fixed size, every pixel counted."""
    ev = PerClassAP(exact_below=4 * 3 * 6 * 5)
    ev.update(*next(random_batches(n_batches=1)))
    assert ev.total is None and sum(s.numel() for s in ev.scores) == 4 * 3 * 6 * 5
    for probs, targets in random_batches(n_batches=5, size=(60, 50)):
        ev.update(probs, targets)
        assert ev.scores == [] and ev.total.numel() + ev.positive.numel() == 2 * 3 * ev.bins
    assert int(ev.total.view(3, -1).sum(1)[0]) == 4 * 6 * 5 + 5 * 4 * 60 * 50  # every pixel counted once per class


def test_iou_and_pixel_accuracy_hand_worked():
    # targets a a b b ; predictions a b b c (one-hot scores)
    targets = torch.tensor([[[0, 0, 1, 1]]])
    probs = torch.nn.functional.one_hot(torch.tensor([[[0, 1, 1, 2]]]), 3).permute(0, 3, 1, 2).float()
    ev = PerClassIoU()
    ev.update(probs, targets)
    result = ev.result(CLASSES)
    assert result["iou"] == pytest.approx({"a": 1 / 2, "b": 1 / 3, "c": 0.0})
    assert result["pixel_accuracy"] == pytest.approx(2 / 4)
    assert result["mean_iou"] == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)


def test_iou_of_a_class_absent_everywhere_is_nan_and_left_out_of_the_mean():
    probs = torch.nn.functional.one_hot(torch.tensor([[[0, 1]]]), 3).permute(0, 3, 1, 2).float()
    ev = PerClassIoU()
    ev.update(probs, torch.tensor([[[0, 1]]]))
    result = ev.result(CLASSES)
    assert math.isnan(result["iou"]["c"])
    assert result["mean_iou"] == 1.0
