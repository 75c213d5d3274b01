"""The report's example figures show what went wrong: top-loss wrong and most confident right
classifications, the worst-IoU segmentations; checked against the saved weights' own predictions."""
import pytest
import torch
from helpers.runs import FASHION_TEST, fashion_recipe

from fashionseg.build.learner import build_data, build_model


def saved_probabilities(result, recipe):
    """Softmax of the run's saved weights over its test set, in test-set order, with the targets."""
    data = build_data(recipe, on="cpu")
    model = result.run.load_weights(build_model(recipe, len(data.classes), data.n_in), "model.pth").eval()
    with torch.no_grad():
        pairs = [(model(xb).softmax(1), yb.as_subclass(torch.Tensor)) for xb, yb in data.test_dl]
    return torch.cat([p for p, _ in pairs]), torch.cat([y for _, y in pairs])


def section(result, title):
    return result.run.read_json("metrics.json")["sections"][title]["rows"]


@pytest.mark.slow
def test_classification_report_shows_the_top_loss_wrong_and_most_confident_right(fashion):
    result, _, _ = fashion  # seed000-cnn, one epoch on 1,000 images, tested on 300
    recipe = fashion_recipe()
    probs, targets = saved_probabilities(result, recipe)
    assert len(targets) == FASHION_TEST
    losses = -probs.gather(1, targets[:, None].long())[:, 0].log()
    wrong = (probs.argmax(1) != targets).nonzero()[:, 0]
    right = (probs.argmax(1) == targets).nonzero()[:, 0]
    assert len(wrong) > 8 and len(right) > 8
    expected_wrong = wrong[losses[wrong].argsort(descending=True)[:8]].tolist()
    expected_right = right[probs.max(1).values[right].argsort(descending=True)[:8]].tolist()
    rows = section(result, "Highest-loss wrong test predictions")
    assert [r[0] for r in rows] == expected_wrong
    assert [r[3] for r in rows] == pytest.approx(losses[expected_wrong].tolist(), abs=1e-3)
    assert [r[0] for r in section(result, "Most confident right test predictions")] == expected_right
    report = (result.run.path / "report.md").read_text()
    assert "figures/top_losses.png" in report and (result.run.path / "figures" / "top_losses.png").is_file()


@pytest.mark.slow
def test_segmentation_report_shows_the_worst_iou_images(mask_run):
    _, recipe, result = mask_run  # facade-fcn, one epoch on 12 generated pairs, tested on 8, with per-class-iou
    assert "per-class-iou" in recipe.metrics and len(recipe.data_options["classes"]) == 3
    probs, targets = saved_probabilities(result, recipe)
    preds = probs.argmax(1)
    ious = []
    for pred, true in zip(preds, targets):
        keep = true != 255
        p, t = pred[keep], true[keep]
        per_class = [((p == c) & (t == c)).sum() / ((p == c) | (t == c)).sum() for c in range(3)
                     if ((p == c) | (t == c)).any()]
        ious.append(float(torch.stack(per_class).mean()))
    order = sorted(range(len(ious)), key=lambda i: ious[i])[:4]
    rows = section(result, "Worst test images by mean IoU")
    assert [r[0] for r in rows] == order
    assert [r[1] for r in rows] == pytest.approx([ious[i] for i in order], abs=1e-4)
    assert "figures/worst_iou.png" in (result.run.path / "report.md").read_text()


def test_only_a_batchs_own_top_k_is_offered_and_the_kept_items_are_the_same():
    """The per-batch shortlist keeps exactly what offering every item would, ties (earlier first) included."""
    from fashionseg.infer.picking import TopItems
    from fashionseg_plugins.tasks.classification import candidates

    gen = torch.Generator().manual_seed(0)
    every, shortlisted = TopItems(5), TopItems(5)
    for start in range(0, 600, 64):
        score = torch.randint(0, 6, (64,), generator=gen).float()  # many ties
        among = torch.rand(64, generator=gen) > 0.3
        for i in range(64):
            if among[i]:
                every.add(float(score[i]), lambda i=i: start + i)
        picked = candidates(among, score, 5)
        assert len(picked) == min(5, int(among.sum())) and picked == sorted(picked)
        for i in picked:
            shortlisted.add(float(score[i]), lambda i=i: start + i)
    assert shortlisted.items() == every.items()
