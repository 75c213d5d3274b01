"""cam-cnn, CAM and Grad-CAM maps, their placement on the input, and pointing accuracy."""
import json

import pytest
import torch
from torch import nn

from fashionseg import Architecture, FashionsegError, create_model
from fashionseg.analysis.cam import (ClassMaps, GradCam, MapGeometry, class_mapper, pick_method, pointing_accuracy,
                                     pointing_hits, trace_geometry)
from fashionseg.registry.plugins import registry

WITH_HEAD = Architecture("bright", lambda n_classes, n_in: None, "classification", "x", class_maps="class_maps")
from fashionseg.analysis.layers import spatial_layers
from fashionseg.cli import main


def test_cam_cnn_layers_and_shapes():
    model = create_model("cam-cnn", 10, 1).eval()
    x = torch.randn(3, 1, 56, 56)
    assert model(x).shape == (3, 10)
    assert model.features(x).shape == (3, 32, 11, 11)
    assert model.class_maps(x).shape == (3, 10, 11, 11)
    expected = (16 * 25 + 16) + (32 * 16 * 25 + 32) + (10 * 32 + 10)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert torch.allclose(model(x), model.class_maps(x).mean((2, 3)), atol=1e-6)


def receptive_field_centre(model, row, col):
    """Centre of the input pixels that can change map cell (row, col), found by gradients."""
    x = torch.randn(16, 1, 56, 56, requires_grad=True)  # noise: every pixel of the field matters
    model.class_maps(x)[:, :, row, col].sum().backward()
    hit = x.grad.abs().sum((0, 1)).nonzero()
    (top, left), (bottom, right) = hit.min(0).values, hit.max(0).values + 1
    return (top + bottom) / 2, (left + right) / 2


# cam-cnn is unpadded, so every cell's field lies whole on the canvas; cam-fast-cnn is padded
# and its fields are wide, so only the middle cell's field is not cut off by the border
@pytest.mark.parametrize("arch, step, offset, cells", [("cam-cnn", 4.0, 8.0, [(0, 0), (10, 10), (3, 7)]),
                                                       ("cam-fast-cnn", 8.0, 4.0, [(3, 3)])])
def test_class_maps_are_placed_where_their_receptive_fields_are(arch, step, offset, cells):
    model = create_model(arch, 10, 1).eval()
    geometry = trace_geometry(model, model.class_maps, torch.zeros(1, 1, 56, 56))
    assert (geometry.step_y, geometry.offset_y, geometry.step_x, geometry.offset_x) == (step, offset, step, offset)
    for row, col in cells:
        y, x = geometry.centres(torch.tensor(row), torch.tensor(col))
        assert (float(y), float(x)) == tuple(float(c) for c in receptive_field_centre(model, row, col))


class StridedShortcut(nn.Module):
    """A residual block whose shortcut is a strided 1x1 conv: its layers do not form one chain."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1))
        self.shortcut = nn.Conv2d(1, 4, 1, stride=2)
        self.after = nn.Conv2d(4, 4, 1)
        self.head = nn.Linear(4, 10)

    def forward(self, x):
        return self.head(self.after(self.body(x) + self.shortcut(x)).mean((2, 3)))


def test_models_that_are_not_chains_get_maps_stretched_over_the_input():
    model = StridedShortcut().eval()
    x = torch.zeros(1, 1, 16, 16)
    assert GradCam(model, x).layer_name == "after"
    assert GradCam(model, x).geometry == MapGeometry.stretched((8, 8), (16, 16)) == MapGeometry(2.0, 1.0, 2.0, 1.0)
    # up to body.2 the layers are a chain: its stride-2, padding-1 kernels centre cell n on pixel 2n
    assert GradCam(model, x, "body.2").geometry == MapGeometry(2.0, 0.5, 2.0, 0.5)


def test_pointing_hits_on_constructed_maps():
    maps = torch.zeros(4, 11, 11)
    peaks = [(0, 0), (10, 10), (5, 5), (2, 9)]  # cell centres at 4 * index + 8 pixels
    for i, (r, c) in enumerate(peaks):
        maps[i, r, c] = 1.0
    geometry = MapGeometry(4.0, 8.0, 4.0, 8.0)
    boxes = torch.tensor([[0, 0, 28, 28],      # peak (8, 8): inside
                          [28, 28, 56, 56],    # peak (48, 48): inside
                          [0, 0, 28, 28],      # peak (28, 28): on the exclusive edge, outside
                          [0, 20, 28, 44]])    # peak (16, 44): right edge is exclusive, outside
    assert pointing_hits(maps, boxes, geometry).tolist() == [True, True, False, False]


class BrightSpotMaps(nn.Module):
    """Every class map is the input itself: the map peaks where the image is brightest."""

    def class_maps(self, x):
        return x.expand(-1, 10, -1, -1)

    def forward(self, x):
        return self.class_maps(x).mean((2, 3))


def test_pointing_accuracy_has_the_known_answer_on_constructed_images():
    images = torch.zeros(8, 1, 20, 20)
    spots = [(2, 3), (15, 15), (10, 4), (0, 19), (7, 7), (19, 0), (12, 12), (5, 16)]
    for i, (y, x) in enumerate(spots):
        images[i, 0, y, x] = 1.0
    boxes = torch.tensor([[y - 1, x - 1, y + 2, x + 2] for y, x in spots])
    boxes[[1, 4, 6]] += 5  # three boxes moved away from their spot: 5 of 8 hit
    labels = torch.arange(8) % 10
    mapper = class_mapper(BrightSpotMaps(), images[:1], pick_method(WITH_HEAD), WITH_HEAD)
    assert isinstance(mapper, ClassMaps)
    loader = [(images[:5], labels[:5]), (images[5:], labels[5:])]
    assert pointing_accuracy(mapper, loader, boxes) == 5 / 8


def test_grad_cam_of_a_class_map_head_is_its_cam():
    model = create_model("cam-cnn", 10, 1).eval()
    x = torch.randn(4, 1, 56, 56)
    classes = torch.tensor([0, 3, 7, 9])
    arch = registry().get("architecture", "cam-cnn")
    assert pick_method(arch) == "cam"
    cam = class_mapper(model, x, "cam", arch)(x, classes)
    grad_cam = class_mapper(model, x, "gradcam", arch, "classifier")(x, classes)
    assert torch.allclose(grad_cam, cam / 121, atol=1e-6)  # d(mean of the map)/d(cell) = 1/121


def test_grad_cam_on_a_plain_cnn_and_layer_errors():
    model = create_model("seed000-cnn", 10, 1).eval()
    x = torch.randn(2, 1, 28, 28)
    arch = registry().get("architecture", "seed000-cnn")
    mapper = class_mapper(model, x, pick_method(arch), arch)
    assert isinstance(mapper, GradCam) and mapper.layer_name == "7"
    assert mapper(x, torch.tensor([1, 2])).shape == (2, 6, 6)
    assert "7" in spatial_layers(model, x) and "9" not in spatial_layers(model, x)  # 9 is a Linear
    with pytest.raises(FashionsegError, match=r"Valid layers: 0, 1, 2, 3, .*7"):
        class_mapper(model, x, "gradcam", arch, "9")
    with pytest.raises(FashionsegError, match="'seed000-cnn' declares no class-map head"):
        pick_method(arch, "cam")


def test_cam_command_draws_maps_and_records_pointing_accuracy(tiny_run_copy, capsys):
    folder = tiny_run_copy  # the analysis writes into the run folder: a copy of the shared run
    assert main(["cam", str(folder), "--index", "5", "--layer", "features.3"]) == 0
    assert "pointing accuracy" in capsys.readouterr().out
    record = json.loads((folder / "metrics.json").read_text())["class_maps"]
    assert record["cam"]["images"] == 256 and 0.5 < record["cam"]["pointing_accuracy"] <= 1
    assert set(record["figures"].values()) == {"figures/cam-5.png", "figures/features-features.3-5.png"}
    report = (folder / "report.md").read_text()
    for path in record["figures"].values():
        assert (folder / path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({path})" in report
    assert main(["cam", str(folder), "--method", "gradcam", "--no-pointing"]) == 0
    report = (folder / "report.md").read_text()
    assert report.count("## Class activation maps") == 1 and "figures/gradcam-0.png" in report
    assert "gradcam" not in json.loads((folder / "metrics.json").read_text())["class_maps"]  # no pointing pass
    assert main(["cam", str(folder), "--layer", "features.9"]) == 2
    assert "Valid layers: features.0" in capsys.readouterr().err
