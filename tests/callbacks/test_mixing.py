"""MixUp and CutMix: blended targets are label distributions (each sums to one), the loss trains on them,
validation stays unmixed, and only a one-label task with plain cross-entropy takes them."""
import pytest
import torch
from fastai.callback.core import Callback
from fastai.losses import CrossEntropyLossFlat
from fastai.torch_core import TensorCategory
from helpers.image_folders import class_tree
from helpers.learners import toy_learner

from fashionseg import Recipe
from fashionseg.build.checks import check_recipe
from fashionseg.callbacks.mixing import MixBatch, SoftTargets
from fashionseg.errors import FashionsegError


class Seen(Callback):
    """Keeps the targets and losses the loss saw, in training and in validation."""

    order = MixBatch.order - 0.5  # sees the loss's targets before MixBatch puts the labels back

    def __init__(self):
        self.train, self.valid = [], []

    def after_loss(self):
        (self.train if self.training else self.valid).append((self.yb[0].clone(), float(self.loss.detach())))


@pytest.mark.parametrize("mixup, cutmix", [(0.4, 0.0), (0.0, 1.0), (0.4, 1.0)])
def test_mixed_targets_sum_to_one_and_the_loss_takes_them(mixup, cutmix):
    learn, seen = toy_learner(4, loss_func=CrossEntropyLossFlat()), Seen()  # 24 items, 3 classes
    with learn.no_logging(), learn.no_bar():
        learn.fit(1, 1e-2, cbs=[MixBatch(mixup, cutmix, 3, smoothing=0.1), seen])
    targets = torch.cat([y for y, _ in seen.train])
    assert targets.shape == (24, 3) and targets.is_floating_point()
    assert torch.allclose(targets.sum(1), torch.ones(24), atol=1e-6)
    assert (targets.max(1).values < 1).all()  # smoothing (and blending) spread the mass
    assert all(torch.isfinite(torch.tensor(loss)) for _, loss in seen.train)
    assert all(not y.is_floating_point() for y, _ in seen.valid)  # validation sees the true labels
    assert isinstance(learn.loss_func, CrossEntropyLossFlat)  # the run's own loss is back after the fit


def test_soft_target_loss_is_cross_entropy_of_the_distribution():
    pred = torch.randn(6, 4)
    labels = torch.tensor([0, 1, 2, 3, 0, 1])
    loss = SoftTargets(CrossEntropyLossFlat())
    one_hot = torch.nn.functional.one_hot(labels, 4).float()
    assert torch.allclose(loss(pred, one_hot), torch.nn.functional.cross_entropy(pred, labels))
    assert torch.allclose(loss(pred, TensorCategory(labels)), torch.nn.functional.cross_entropy(pred, labels))


def test_only_one_label_tasks_with_cross_entropy_mix(tmp_path):
    from helpers.seg_folders import folder_options, make_root

    seg = Recipe(name="s", dataset="mask-folder", arch="facade-fcn", mixup=0.2,
                 data_options=folder_options(make_root(tmp_path / "seg")))
    with pytest.raises(FashionsegError, match="task 'segmentation'"):
        check_recipe(seg)
    cls = Recipe(name="c", dataset="image-folder", arch="seed000-cnn", cutmix=1.0, loss="focal",
                 data_options={"path": str(class_tree(tmp_path / "cls"))})
    with pytest.raises(FashionsegError, match="plain cross-entropy"):
        check_recipe(cls)
    with pytest.raises(FashionsegError, match="even bs"):
        cls.override(loss="", bs=7)
