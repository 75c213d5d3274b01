"""Every segmentation architecture returns a score map the size of its input, at two sizes."""
import pytest
import torch
from torch import nn

from fashionseg import FashionsegError, create_model, list_components

# Light options keep the heavy nets affordable on a CPU; each test still builds the real layout.
LIGHT = {
    "unet": {"encoder": "resnet18"},
    "unet-classic": {"width": 8},
    "facade-fcn": {"widths": (8, 16, 16, 32, 32)},
    "fcn32s": {"fc_channels": 64},
    "deeplabv3-resnet101": {},
}
SMALL_INPUT = {"fcn32s", "deeplabv3-resnet101"}  # ResNet-101/VGG-16 depth: 64x64 and an odd 50x38


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_every_segmentation_architecture_is_covered():
    assert set(list_components("architecture", task="segmentation")) >= {
        "unet", "unet-classic", "facade-fcn", "resnet18-fcn", "fcn32s", "deeplabv3-resnet101"}


@pytest.mark.parametrize("name", ["unet", "unet-classic", "facade-fcn", "resnet18-fcn",
                                  pytest.param("fcn32s", marks=pytest.mark.slow), "deeplabv3-resnet101"])
def test_score_map_matches_input_size(name):
    model = create_model(name, 5, 3, **LIGHT.get(name, {})).eval()
    sizes = [(64, 64), (50, 38)] if name in SMALL_INPUT else [(256, 256), (250, 190)]
    with torch.no_grad():
        for h, w in sizes:
            assert model(torch.randn(1, 3, h, w)).shape == (1, 5, h, w)


def test_facade_fcn_has_the_reported_layers():
    model = create_model("facade-fcn", 5, 3)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (3, 64, (5, 5), (2, 2)), (64, 128, (5, 5), (2, 2)), (128, 256, (5, 5), (2, 2)),
        (256, 512, (5, 5), (2, 2)), (512, 512, (5, 5), (2, 2)), (512, 5, (3, 3), (1, 1))]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 5
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 2
    assert sum(isinstance(m, nn.Upsample) for m in model.modules()) == 2
    conv_params = sum(c.weight.numel() + c.bias.numel() for c in convs)
    assert n_params(model) == conv_params + 2 * (64 + 128 + 256 + 512 + 512)  # BN scale and shift


@pytest.mark.slow
def test_default_architectures_build_at_full_size():
    assert n_params(create_model("unet", 5, 3)) == pytest.approx(24.44e6, rel=0.01)  # ResNet-34 encoder
    fcn = create_model("fcn32s", 5, 3)
    fc = [m for m in fcn.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    assert [(c.in_channels, c.out_channels) for c in fc] == [(512, 4096), (4096, 4096), (4096, 5)]
    up = [m for m in fcn.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(up) == 1 and up[0].stride == (32, 32)
    classic = create_model("unet-classic", 5, 3)
    assert n_params(classic) == pytest.approx(31.04e6, rel=0.01)  # the paper's 64..1024 widths
    assert n_params(create_model("deeplabv3-resnet101", 5, 3)) > 58e6


def test_resnet18_fcn_dilation_keeps_a_finer_grid():
    plain, dilated = create_model("resnet18-fcn", 5, 3), create_model("resnet18-fcn", 5, 3, dilation=True)
    x = torch.randn(1, 3, 128, 128)
    assert plain.trunk(x).shape[-1] == 4 and dilated.trunk(x).shape[-1] == 8
    assert n_params(plain) == n_params(dilated)


def test_unknown_encoder_suggests_names():
    with pytest.raises(FashionsegError, match="resnet18"):
        create_model("unet", 5, 3, encoder="resnet-18")


def test_local_encoder_weights_load_and_missing_file_is_an_error(tmp_path):
    source = create_model("unet", 5, 3, encoder="resnet18")
    path = tmp_path / "encoder.pth"
    torch.save(source.net.encoder.state_dict(), path)
    loaded = create_model("unet", 5, 3, encoder="resnet18", encoder_weights=str(path))
    assert torch.equal(loaded.net.encoder.conv1.weight, source.net.encoder.conv1.weight)
    with pytest.raises(FashionsegError, match="never downloaded"):
        create_model("unet", 5, 3, encoder="resnet18", encoder_weights=str(tmp_path / "absent.pth"))
