"""`whiten`: the first convolution started as whitening filters of the training images' patches and kept fixed,
on real Fashion-MNIST images; through the recipe setting, a training run and its mistakes."""
import torch
import torch.nn.functional as F
import pytest
from torch import nn

from fashionseg import FashionsegError, Recipe, create_model
from fashionseg.build.learner import build_learner
from fashionseg.data import fashion_mnist
from fashionseg.infer.trained import load_run
from fashionseg.models.whitening import training_images, whiten_first_conv, whitening_filters
from helpers.runs import train


@pytest.fixture(scope="module")
def images():
    """2,000 real training images, normalised as the data set does."""
    x = fashion_mnist.load()["train_images"][:2000].float().div(255)[:, None]
    return (x - x.mean()) / x.std()


def patch_outputs(filters, images):
    """Each 3x3 patch of `images` through `filters`: (patches, filters)."""
    return F.conv2d(images, filters).permute(0, 2, 3, 1).reshape(-1, len(filters)).double()


def test_whitening_filters_decorrelate_the_patches_and_equalise_their_variance(images):
    filters = whitening_filters(images, (3, 3), 18)
    assert filters.shape == (18, 1, 3, 3)
    torch.testing.assert_close(filters[9:], -filters[:9])  # each filter's negative beside it
    cov = torch.cov(patch_outputs(filters[:9], images).T)
    # the 9 outputs are uncorrelated with a variance of value / (value + eps): near 1 but for the flattest direction
    off_diagonal = cov - torch.diag(torch.diag(cov))
    assert off_diagonal.abs().max() < 1e-3
    assert (torch.diag(cov)[:8] > 0.85).all() and (torch.diag(cov) <= 1.0 + 1e-6).all()
    raw = torch.corrcoef(F.unfold(images, 3).transpose(1, 2).reshape(-1, 9).double().T)
    assert raw[0, 1] > 0.8  # neighbouring pixels: what the whitening removes


def test_a_first_conv_of_whitening_filters_only_is_frozen_and_stays_as_set(images):
    model = create_model("fmnist-fastnet", 10, 1, widths=[16, 32, 64], pool_first=True)
    done = whiten_first_conv(model, images)
    assert (done.layer, done.filters, done.out_channels) == ("0", 16, 16)
    conv = model[0]
    assert not conv.weight.requires_grad
    start = conv.weight.detach().clone()
    torch.testing.assert_close(start, whitening_filters(images, (3, 3), 16))
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-2)
    for _ in range(3):
        F.cross_entropy(model(images[:64]), torch.arange(64) % 10).backward()
        opt.step()
        opt.zero_grad()
    assert torch.equal(conv.weight, start)


def test_filters_beyond_twice_the_patch_size_train_and_the_whitening_ones_do_not(images):
    model = create_model("fmnist-fastnet", 10, 1, widths=[32, 64, 128], convs=2, dropout=0.1)
    done = whiten_first_conv(model, images)
    assert (done.filters, done.out_channels) == (18, 32)
    conv = model[0]
    start = conv.weight.detach().clone()
    opt = torch.optim.AdamW(model.parameters(), 1e-2, weight_decay=0)
    for _ in range(3):
        F.cross_entropy(model(images[:64]), torch.arange(64) % 10).backward()
        opt.step()
        opt.zero_grad()
    assert torch.equal(conv.weight[:18], start[:18])
    assert (conv.weight[18:] - start[18:]).abs().amax(dim=(1, 2, 3)).min() > 0  # every random filter moved


def test_models_whitening_cannot_start_say_why():
    with pytest.raises(FashionsegError, match="no nn.Conv2d: train it without --whiten"):
        whiten_first_conv(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), torch.zeros(2, 1, 28, 28))
    with pytest.raises(FashionsegError, match=r"the first convolution \(0\) takes 1 channels but the training "
                                              r"images give it 3"):
        whiten_first_conv(nn.Sequential(nn.Conv2d(1, 8, 3)), torch.zeros(2, 3, 28, 28))
    with pytest.raises(FashionsegError, match=r"whiten could not run the model on training images \(RuntimeError: "
                                              r".*train it without --whiten"):
        whiten_first_conv(nn.Sequential(nn.Linear(28, 4), nn.Conv2d(1, 8, 3)), torch.zeros(2, 1, 28, 3))
    with pytest.raises(FashionsegError, match=r"at least the size of the first convolution's 3x3 kernel"):
        whiten_first_conv(nn.Sequential(nn.Conv2d(1, 8, 3)), torch.zeros(2, 1, 2, 2))
    with pytest.raises(FashionsegError, match="use one of them"):
        Recipe(name="x", dataset="fashion-mnist", arch="fmnist-fastnet", whiten=True, weights="model.pth")
    with pytest.raises(FashionsegError, match="freeze_epochs unfreezes every layer"):
        Recipe(name="x", dataset="fashion-mnist", arch="fmnist-fastnet", whiten=True, freeze_epochs=1)
    with pytest.raises(FashionsegError, match="the training set is empty"):
        training_images([])


def test_a_whitened_run_keeps_its_fixed_filters_and_a_resumed_build_keeps_them_fixed(tmp_path):
    recipe = Recipe(name="w", dataset="fashion-mnist", arch="fmnist-fastnet", whiten=True, limit=1024,
                    eval_limit=256, epochs=1, bs=128, lr=1e-2, figures=False,
                    arch_options={"widths": [16, 32, 64], "pool_first": True})
    result = train(recipe, tmp_path)
    assert result.run.read_json("config.json")["whiten"] is True
    conv = load_run(result.run.path).model[0]
    # what training left: still 16 whitening filters of a 3x3 patch, mutually orthogonal, in +/- pairs
    w = conv.weight.detach().reshape(16, 9).double()
    torch.testing.assert_close(w[8:], -w[:8])
    gram = w[:8] @ w[:8].T
    assert (gram - torch.diag(torch.diag(gram))).abs().max() < 1e-4 * torch.diag(gram).max()
    built = build_learner(recipe, pretrained=False)  # how a resumed run is built, before last.pth loads
    assert not built.learn.model[0].weight.requires_grad and built.whitened.filters == 16


def test_a_first_conv_behind_a_space_to_depth_stem_is_whitened_on_what_it_sees(images):
    model = create_model("cam-fast-cnn", 10, 1)  # PixelUnshuffle(2): the first conv sees 4 channels at 14x14
    model.train()
    done = whiten_first_conv(model, images)
    conv = dict(model.named_modules())[done.layer]
    assert conv.in_channels == 4 and (done.filters, done.out_channels) == (32, 32) and model.training
    expected = whitening_filters(nn.PixelUnshuffle(2)(images), (3, 3), 32)
    torch.testing.assert_close(conv.weight.detach(), expected)
    assert not conv.weight.requires_grad
