"""Class activation maps: where in the input a model found each class.

Models whose architecture declares a class-map head (`Architecture.class_maps`: a method
returning maps whose global pooling gives the logits) show their maps directly (CAM). Any other
classifier is explained by Grad-CAM on one of its layers: the layer's maps weighted by the
pooled gradient of the class score.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from fastai.callback.hook import Hook, Hooks, hook_output
from torch import nn

from fashionseg.analysis.layers import last_spatial_layer, named_layer

GEOMETRY_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.PixelUnshuffle)


@dataclass
class MapGeometry:
    """Where map cell (i, j) lies on the input: its centre is `step * index + offset` pixels
    (continuous coordinates: pixel k spans [k, k + 1))."""

    step_y: float
    offset_y: float
    step_x: float
    offset_x: float

    @classmethod
    def stretched(cls, map_hw, input_hw) -> "MapGeometry":
        """Maps spread evenly over the input: right for padded layers, a guess for other models."""
        (h, w), (H, W) = map_hw, input_hw
        return cls(H / h, H / h / 2, W / w, W / w / 2)

    def centres(self, rows: torch.Tensor, cols: torch.Tensor):
        return self.step_y * rows + self.offset_y, self.step_x * cols + self.offset_x

    def extent(self, map_hw) -> tuple[float, float, float, float]:
        """Edges of the map's cells on the input, as matplotlib's imshow `extent` (left, right, bottom, top)."""
        h, w = map_hw
        top, left = self.offset_y - self.step_y / 2, self.offset_x - self.step_x / 2
        return left, left + self.step_x * w, top + self.step_y * h, top


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _layer_params(m: nn.Module):
    """Kernel, stride, padding and dilation of a conv or pool layer, per axis; space-to-depth
    moves pixels like a kernel as wide as its stride."""
    if isinstance(m, nn.PixelUnshuffle):
        return _pair(m.downscale_factor), _pair(m.downscale_factor), (0, 0), (1, 1)
    return (_pair(m.kernel_size), _pair(m.stride or m.kernel_size), _pair(m.padding),
            _pair(getattr(m, "dilation", 1)))


def chain_geometry(events, input_hw, map_hw) -> MapGeometry | None:
    """Exact geometry when the conv and pool layers ran as one chain from input to map, else None.

    `events` are `(layer, input_hw, output_hw)` in the order the layers ran.
    """
    if not events or events[0][1] != input_hw or events[-1][2] != map_hw:
        return None
    if any(prev[2] != cur[1] for prev, cur in zip(events, events[1:])):
        return None
    step, offset = [1.0, 1.0], [0.0, 0.0]
    for layer, _, _ in reversed(events):
        k, s, p, d = _layer_params(layer)
        for axis in (0, 1):
            offset[axis] = s[axis] * offset[axis] + d[axis] * (k[axis] - 1) / 2 - p[axis]
            step[axis] *= s[axis]
    return MapGeometry(step[0], offset[0] + 0.5, step[1], offset[1] + 0.5)


def trace_geometry(model: nn.Module, forward, x: torch.Tensor, until: nn.Module | None = None) -> MapGeometry:
    """Run `forward(x)` once, watching the conv and pool layers, to place on the input the maps
    it returns (or, with `until`, the maps that layer outputs)."""
    events, done = [], []

    def note(m, i, o):
        if not done:
            events.append((m, tuple(i[0].shape[-2:]), tuple(o.shape[-2:])))

    layers = [m for m in model.modules() if isinstance(m, GEOMETRY_LAYERS)]
    with Hooks(layers, note):  # registered first, so `until`'s own layer is noted before the stop
        stop = Hook(until, lambda m, i, o: done.append(tuple(o.shape[-2:]))) if until is not None else nullcontext()
        with stop, torch.no_grad():
            out = forward(x)
    map_hw, input_hw = done[0] if done else tuple(out.shape[-2:]), tuple(x.shape[-2:])
    return chain_geometry(events, input_hw, map_hw) or MapGeometry.stretched(map_hw, input_hw)


class ClassMaps:
    """CAM: the maps of the model's own class-map head."""

    method = "cam"

    def __init__(self, model: nn.Module, example: torch.Tensor, head: str):
        self.model, self.layer_name = model, "class-map head"
        self.maps = getattr(model, head)
        self.geometry = trace_geometry(model, self.maps, example)

    @torch.no_grad()
    def __call__(self, xb: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """`(B, h, w)`: for each image, the map of the class asked for."""
        return self.maps(xb)[torch.arange(len(xb), device=xb.device), classes]

    @staticmethod
    def display(maps: torch.Tensor) -> torch.Tensor:
        return maps


class GradCam:
    """Grad-CAM: a layer's maps weighted by the spatially averaged gradient of the class score.

    Calling it returns the maps before Grad-CAM's final ReLU; `display` applies it."""

    method = "gradcam"

    def __init__(self, model: nn.Module, example: torch.Tensor, layer_name: str | None = None):
        self.model = model
        self.layer_name = layer_name or last_spatial_layer(model, example)
        self.layer = named_layer(model, self.layer_name, example)
        self.geometry = trace_geometry(model, model, example, until=self.layer)

    def __call__(self, xb: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad(), hook_output(self.layer, detach=False) as hook:
            score = self.model(xb).gather(1, classes.view(-1, 1)).sum()
            (grads,) = torch.autograd.grad(score, hook.stored)
        weights = grads.mean((2, 3), keepdim=True)
        return (weights * hook.stored).sum(1).detach()

    @staticmethod
    def display(maps: torch.Tensor) -> torch.Tensor:
        """Grad-CAM's final ReLU: only evidence for the class is shown. Peaks are found before it,
        so a map with no positive evidence still points somewhere."""
        return F.relu(maps)


def pick_method(arch, method: str = "auto", layer: str | None = None) -> str:
    """CAM for architectures that declare a class-map head, else (or when asked) Grad-CAM; checked
    before any data is loaded."""
    from fashionseg.errors import FashionsegError

    if method == "auto":
        method = "cam" if arch.class_maps and layer is None else "gradcam"
    if method == "cam" and not arch.class_maps:
        raise FashionsegError(f"architecture {arch.name!r} declares no class-map head for CAM; use --method gradcam")
    if method == "cam" and layer is not None:
        raise FashionsegError("--target-layer is for Grad-CAM; add --method gradcam")
    return method


def class_mapper(model: nn.Module, example: torch.Tensor, method: str, arch, layer: str | None = None):
    """The mapper for a method `pick_method` chose: the declared class-map head, or Grad-CAM on `layer`."""
    if method == "cam":
        return ClassMaps(model, example, arch.class_maps)
    return GradCam(model, example, layer)


def peak_centres(maps: torch.Tensor, geometry: MapGeometry):
    """Input coordinates (y, x) of each `(h, w)` map's highest cell."""
    flat = maps.flatten(1).argmax(1)
    w = maps.shape[-1]
    return geometry.centres(flat // w, flat % w)


def pointing_hits(maps: torch.Tensor, boxes: torch.Tensor, geometry: MapGeometry) -> torch.Tensor:
    """Whether each map peaks inside its box `(top, left, bottom, right)`, bottom and right exclusive."""
    y, x = peak_centres(maps, geometry)
    boxes = boxes.to(y.device)
    return (boxes[:, 0] <= y) & (y < boxes[:, 2]) & (boxes[:, 1] <= x) & (x < boxes[:, 3])


def pointing_accuracy(mapper, dl, boxes: torch.Tensor, progress=None) -> float:
    """Share of images in `dl` whose true-class map peaks inside their box (`boxes` in `dl`'s order)."""
    hits, seen = 0, 0
    for xb, yb in dl:
        yb = yb.as_subclass(torch.Tensor)
        maps = mapper(xb.as_subclass(torch.Tensor), yb)
        hits += int(pointing_hits(maps, boxes[seen: seen + len(yb)], mapper.geometry).sum())
        seen += len(yb)
        if progress:
            progress(len(yb))
    return hits / max(seen, 1)
