"""Recipe losses: class weights change cross-entropy, Dice adds a rare-class term, bad names fail."""
import pytest
import torch
import torch.nn.functional as F

from fashionseg import FashionsegError, Recipe
from fashionseg.models.losses import make_loss
from fashionseg.registry.plugins import registry

SEG = registry().task("segmentation")


def recipe(**changes):
    return Recipe(name="x", dataset="mini-facade", arch="unet", **changes)


def test_weighted_cross_entropy_matches_torch_for_score_maps():
    logits, targets = torch.randn(2, 3, 4, 5), torch.randint(0, 3, (2, 4, 5))
    loss = make_loss(recipe(loss_options={"weight": [1, 4, 2]}), SEG)
    expected = F.cross_entropy(logits, targets, weight=torch.tensor([1.0, 4.0, 2.0]))
    assert float(loss(logits, targets)) == pytest.approx(float(expected), rel=1e-5)


def test_dice_ce_adds_the_dice_term_and_focal_is_below_cross_entropy():
    logits, targets = torch.randn(2, 3, 4, 5), torch.randint(0, 3, (2, 4, 5))
    ce = float(make_loss(recipe(), SEG)(logits, targets))
    assert float(make_loss(recipe(loss="dice-ce"), SEG)(logits, targets)) > ce
    assert float(make_loss(recipe(loss="focal"), SEG)(logits, targets)) < ce


def test_unknown_loss_and_bad_options_are_one_line_errors():
    with pytest.raises(FashionsegError, match="dice-ce"):
        make_loss(recipe(loss="dice"), SEG)
    with pytest.raises(FashionsegError, match="loss_options.weight must be numbers, one per class"):
        make_loss(recipe(loss_options={"weight": ["heavy", 1]}), SEG)
    with pytest.raises(FashionsegError, match="rejected its options"):
        make_loss(recipe(loss="focal", loss_options={"smoothness": 1}), SEG)
