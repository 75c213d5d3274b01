"""Each Fashion-MNIST architecture: output shape and parameter count from its layer list."""
import pytest
import torch

from fashionseg import create_model


def conv(cin, cout, k, bn=False):
    return cin * cout * k * k + cout + (2 * cout if bn else 0)


def linear(cin, cout):
    return cin * cout + cout


EXPECTED = {
    "seed000-cnn": conv(1, 32, 3, True) + conv(32, 64, 3, True) + linear(64 * 6 * 6, 600) + linear(600, 120) + linear(120, 10),
    "basenet": conv(1, 6, 5) + conv(6, 12, 5) + linear(192, 12) + linear(12, 10),
    "basenet-improved": conv(1, 12, 5, True) + conv(12, 24, 5, True) + linear(384, 192) + linear(192, 12) + linear(12, 10),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_report_architectures_match_their_layer_lists(name):
    model = create_model(name, n_classes=10, n_in=1)
    assert sum(p.numel() for p in model.parameters()) == EXPECTED[name]
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_fastnet_shape_and_options():
    model = create_model("fmnist-fastnet", n_classes=10, n_in=1, widths=(8, 16, 32), hidden=64)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    deeper = create_model("fmnist-fastnet", n_classes=10, n_in=1, widths=(8, 16, 32), hidden=64, convs=2)
    assert sum(p.numel() for p in deeper.parameters()) > sum(p.numel() for p in model.parameters())


def test_fastnet_takes_convs_per_stage():
    from fashionseg import FashionsegError

    model = create_model("fmnist-fastnet", n_classes=10, n_in=1, widths=(8, 16, 32), hidden=64, convs=[1, 2, 2])
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 8), (8, 16), (16, 16), (16, 32), (32, 32)]
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    for bad in ([1, 0, 2], [1, 2], "2"):
        with pytest.raises(FashionsegError, match="convs is a number of convs per stage"):
            create_model("fmnist-fastnet", n_classes=10, n_in=1, convs=bad)


def test_fastnet_pool_first_pools_before_the_norm_with_the_same_weights_and_output():
    plain = create_model("fmnist-fastnet", n_classes=10, n_in=1, widths=(8, 16, 32), hidden=64, convs=[2, 1, 1])
    model = create_model("fmnist-fastnet", n_classes=10, n_in=1, widths=(8, 16, 32), hidden=64, convs=[2, 1, 1],
                         pool_first=True)
    kinds = [type(m).__name__ for m in model if not isinstance(m, torch.nn.ReLU)][:7]
    assert kinds == ["Conv2d", "MaxPool2d", "BatchNorm2d", "Conv2d", "BatchNorm2d", "Conv2d", "MaxPool2d"]
    assert [p.shape for p in model.parameters()] == [p.shape for p in plain.parameters()]
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    # the stage's second conv runs on the pooled 14x14 map, so the net is cheaper for the same weights
    sizes = []
    model[4].register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
    model(torch.randn(1, 1, 28, 28))
    assert isinstance(model[4], torch.nn.Conv2d) and sizes == [14]


def test_resnet101_one_channel_from_scratch():
    model = create_model("resnet101", n_classes=10, n_in=1)
    assert model.conv1.in_channels == 1
    assert 42_000_000 < sum(p.numel() for p in model.parameters()) < 43_000_000
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.slow
def test_local_weights_load_and_missing_file_is_a_clear_error(tmp_path):
    from fashionseg import FashionsegError
    from fashionseg.models.weights import load_pretrained

    source = create_model("resnet101", n_classes=10, n_in=1)
    path = tmp_path / "w.pth"
    torch.save(source.state_dict(), path)
    loaded = create_model("resnet101", n_classes=5, n_in=1)
    report = load_pretrained(loaded, path, head="fc")  # new head: skipped, and said so
    assert torch.equal(loaded.conv1.weight, source.conv1.weight)
    assert loaded.fc.out_features == 5
    assert sorted(s["tensor"] for s in report.skipped) == ["fc.bias", "fc.weight"]
    assert all(s["reason"].startswith("classifier for another number of classes") for s in report.skipped)
    with pytest.raises(FashionsegError, match="does not exist"):
        load_pretrained(loaded, tmp_path / "absent.pth")


def test_bad_architecture_option_is_a_user_error():
    from fashionseg import FashionsegError

    with pytest.raises(FashionsegError, match="rejected its options"):
        create_model("basenet", n_classes=10, n_in=1, width=3)


def test_basenet_ablation_variants_add_one_step_each():
    """basenet -> +BN -> +first linear -> +dropout on the second -> wider convs (basenet-improved)."""
    from torch import nn

    def parts(name, **options):
        model = create_model(name, 10, 1, **options)
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
        return ([m.out_channels for m in model if isinstance(m, nn.Conv2d)],
                sum(isinstance(m, nn.BatchNorm2d) for m in model),
                [m.out_features for m in model if isinstance(m, nn.Linear)],
                sum(isinstance(m, nn.Dropout) for m in model))

    assert parts("basenet") == ([6, 12], 0, [12, 10], 0)
    assert parts("basenet-bn") == ([6, 12], 2, [12, 10], 0)
    assert parts("basenet-bn-fc1") == ([6, 12], 2, [192, 12, 10], 1)
    assert parts("basenet-bn-fc2") == ([6, 12], 2, [192, 12, 10], 2)
    assert parts("basenet-improved") == ([12, 24], 2, [192, 12, 10], 2)
    assert parts("basenet", widths=[8, 16], hidden=[32], dropout=[0.2]) == ([8, 16], 0, [32, 10], 1)
