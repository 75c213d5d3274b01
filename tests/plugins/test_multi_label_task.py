"""The multi-label task: scores checked against scikit-learn and by hand on known arrays, thresholds tuned
for F1, decisions, predictions and CSV columns, ASL as timm computes it, and the classifiers it may use."""
import numpy as np
import pytest
import torch
from fashionseg_plugins.metrics.multi_label import MultiLabelScores
from fashionseg_plugins.tasks.multi_label import MultiLabel, tuned_thresholds
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from fashionseg import Recipe
from fashionseg.models.losses import make_loss

CLASSES = ["cat", "dog", "sky"]
PROBS = np.array([[0.9, 0.2, 0.6], [0.8, 0.7, 0.1], [0.3, 0.6, 0.4], [0.1, 0.1, 0.7], [0.6, 0.4, 0.2]], np.float32)
TARGETS = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0], [0, 0, 0], [0, 1, 0]])  # "sky" has one positive


def scores(thresholds, probs=PROBS, targets=TARGETS, batches=2):
    ev = MultiLabelScores()
    ev.setup({"thresholds": thresholds})
    for p, t in zip(np.array_split(probs, batches), np.array_split(targets, batches)):
        ev.update(torch.from_numpy(p), torch.from_numpy(t).float())
    return ev.result(CLASSES)


def test_scores_at_a_threshold_match_scikit_learn():
    limits = [0.5, 0.5, 0.65]
    got, decided = scores(limits), (PROBS >= np.array(limits)).astype(int)
    assert got["f1_micro"] == pytest.approx(f1_score(TARGETS, decided, average="micro"))
    assert got["f1_macro"] == pytest.approx(f1_score(TARGETS, decided, average="macro"))
    for j, name in enumerate(CLASSES):
        assert got["precision"][name] == pytest.approx(precision_score(TARGETS[:, j], decided[:, j], zero_division=0))
        assert got["recall"][name] == pytest.approx(recall_score(TARGETS[:, j], decided[:, j]))
        assert got["ap"][name] == pytest.approx(average_precision_score(TARGETS[:, j], PROBS[:, j]))
    assert got["mean_ap"] == pytest.approx(average_precision_score(TARGETS, PROBS, average="macro"))


def test_scores_worked_by_hand():
    got = scores([0.5, 0.5, 0.5])
    # cat: predicted for items 0, 1, 4; true 0, 1 -> precision 2/3, recall 1; AP 1 (both positives ranked first)
    assert got["precision"]["cat"] == pytest.approx(2 / 3) and got["recall"]["cat"] == 1.0
    assert got["ap"]["cat"] == 1.0
    # sky: predicted for items 0, 3; true 0 -> precision 1/2; ranked 2nd of the scores -> AP 1/2
    assert got["precision"]["sky"] == 0.5 and got["ap"]["sky"] == 0.5
    # 5 true positives, 2 false positives (sky on item 3, cat on item 4), 1 false negative (dog on item 4)
    assert got["f1_micro"] == pytest.approx(2 * 5 / (2 * 5 + 2 + 1))
    # the thresholds decide: at 0.65 for sky, item 3 (0.7) stays and item 0 (0.6) goes
    assert scores([0.5, 0.5, 0.65])["recall"]["sky"] == 0.0


def test_a_label_without_positives_has_no_ap_and_leaves_the_mean():
    targets = TARGETS.copy()
    targets[:, 2] = 0
    got = scores([0.5] * 3, targets=targets)
    assert np.isnan(got["ap"]["sky"]) and got["mean_ap"] == pytest.approx((got["ap"]["cat"] + got["ap"]["dog"]) / 2)


def test_tuned_thresholds_give_the_best_f1_of_any_threshold():
    rng = np.random.default_rng(0)
    targets = (rng.random((200, 3)) < [0.1, 0.5, 0.3]).astype(int)
    probs = np.clip(targets * 0.3 + rng.random((200, 3)) * 0.7, 0, 1).astype(np.float32)
    probs[:, 2] = rng.random(200)  # an uninformative label still gets its best threshold
    targets[:, 1] = 0  # and a label without positives keeps 0.5
    limits = tuned_thresholds(probs, targets)
    assert limits[1] == 0.5
    for j in (0, 2):
        best = f1_score(targets[:, j], probs[:, j] >= limits[j])
        others = [f1_score(targets[:, j], probs[:, j] >= t) for t in np.unique(probs[:, j])]
        assert best == pytest.approx(max(others)) and best > f1_score(targets[:, j], probs[:, j] >= 0.5)


def test_predictions_apply_each_labels_threshold_and_the_csv_gives_every_probability():
    task = MultiLabel()
    summary = {"classes": CLASSES, "thresholds": [0.5, 0.9, 0.25]}
    logits = torch.logit(torch.tensor([[0.8, 0.85, 0.3], [0.2, 0.95, 0.1]]))
    first, second = task.predict_batch(lambda x: x, logits, summary, [(1, 1)] * 2)
    assert first.labels == ["cat", "sky"] and second.labels == ["dog"]
    row = task.csv_row(first, summary)
    assert row["labels"] == "cat sky" and row["p_dog"] == pytest.approx(0.85)
    described = task.describe(first, summary)
    assert [r[0] for r in described.rows] == ["dog", "cat", "sky"]  # most probable first
    assert [r[3] for r in described.rows] == ["no", "yes", "yes"]


def test_asl_is_timms_asymmetric_loss_per_image_and_bce_is_the_default():
    from timm.loss import AsymmetricLossMultiLabel

    task, logits = MultiLabel(), torch.randn(4, 3)
    targets = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]])
    asl = make_loss(Recipe(name="t", dataset="multi-label-csv", arch="cam-fast-cnn", loss="asl"), task)
    assert float(asl(logits, targets)) == pytest.approx(float(AsymmetricLossMultiLabel()(logits, targets.float())) / 4)
    bce = make_loss(Recipe(name="t", dataset="multi-label-csv", arch="cam-fast-cnn"), task)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets.float())
    assert float(bce(logits, targets)) == pytest.approx(float(expected))


def test_classifier_architectures_serve_multi_label_but_its_metrics_stay_its_own():
    from fashionseg.build.checks import resolve
    from fashionseg.errors import FashionsegError
    from fashionseg.registry.plugins import registry

    reg = registry()
    assert "cam-fast-cnn" in reg.names("architecture", task="multi-label")
    assert "timm:resnet18" in reg.names("architecture", "timm:resnet1*", task="multi-label")
    assert "cam-fast-cnn" not in reg.names("architecture", task="segmentation")
    assert reg.names("metric", task="multi-label") == ["accuracy-multi", "f1-multi", "multi-label-scores"]
    parts = resolve(Recipe(name="t", dataset="multi-label-csv", arch="cam-fast-cnn", metrics=["multi-label-scores"]))
    assert parts.task.name == "multi-label"
    with pytest.raises(FashionsegError, match="metric 'accuracy' is for classification, but data set "
                                              "'multi-label-csv' is multi-label"):
        resolve(Recipe(name="t", dataset="multi-label-csv", arch="cam-fast-cnn", metrics=["accuracy"]))


def test_an_ensemble_averages_sigmoids_and_its_test_loss_is_binary_cross_entropy():
    from sklearn.metrics import log_loss

    from fashionseg.analysis.ensemble import Ensemble

    task, x = MultiLabel(), torch.randn(5, 3)
    first, second = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    mean = (first(x).sigmoid() + second(x).sigmoid()) / 2
    assert torch.allclose(task.probabilities(Ensemble([first, second], task)(x)), mean, atol=1e-5)
    losses = task.item_losses(torch.from_numpy(PROBS), torch.from_numpy(TARGETS).float())
    expected = log_loss(TARGETS.ravel(), PROBS.ravel().astype(np.float64))  # every (image, label) pair, equally
    assert float(losses.mean()) == pytest.approx(expected, rel=1e-5)


def test_flip_tta_averages_each_labels_sigmoid_over_the_image_and_its_mirror():
    from fashionseg.infer.tta import test_time_forward

    task, x = MultiLabel(), torch.randn(2, 1, 4, 6)
    sided = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))  # sees left from right
    forward = test_time_forward(tta=True, average=task.average)
    expected = (sided(x).sigmoid() + sided(x.flip(-1)).sigmoid()) / 2
    assert torch.allclose(task.probabilities(forward(sided, x)), expected, atol=1e-5)
    assert not torch.allclose(expected, sided(x).sigmoid(), atol=1e-3)
