"""Finding layers by name or role, and reading what they compute, through fastai hooks."""
from __future__ import annotations

import torch
from fastai.callback.hook import Hook, Hooks, hook_output
from torch import nn

from fashionseg.errors import FashionsegError
from fashionseg.models.layers import find_module


@torch.no_grad()
def spatial_layers(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Names of the layers whose output is a stack of 2-D maps larger than 1x1, in the order they finish."""
    names = {m: n for n, m in model.named_modules() if n}
    finished = []

    def note(m, i, o):
        if isinstance(o, torch.Tensor) and o.ndim == 4 and o.shape[-1] * o.shape[-2] > 1:
            finished.append(names[m])

    with Hooks(list(names), note):
        model.eval()(x)
    return list(dict.fromkeys(finished))


def named_layer(model: nn.Module, name: str, x: torch.Tensor) -> nn.Module:
    """The layer called `name`, which must output 2-D maps; otherwise an error listing those that do."""
    valid = spatial_layers(model, x)
    if name not in valid:
        import difflib

        close = difflib.get_close_matches(name, valid, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise FashionsegError(f"no layer {name!r} with 2-D output maps.{hint} Valid layers: {', '.join(valid)}")
    return dict(model.named_modules())[name]


def last_spatial_layer(model: nn.Module, x: torch.Tensor) -> str:
    """The last layer to produce 2-D maps: where Grad-CAM looks by default."""
    layers = spatial_layers(model, x)
    if not layers:
        raise FashionsegError("the model has no layer with 2-D output maps to explain")
    return layers[-1]


@torch.no_grad()
def feature_maps(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The output of `layer` for input `x`, `(B, C, h, w)`."""
    with hook_output(layer) as hook:
        model.eval()(x)
    return hook.stored


@torch.no_grad()
def penultimate_features(model: nn.Module, x: torch.Tensor, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    """What the feature layer (declared by the architecture) receives, `(B, D)` (2-D maps of a
    class-map head are averaged), and the logits."""
    with Hook(find_module(model, layer), lambda m, i, o: i[0]) as hook:
        logits = model.eval()(x)
    features = hook.stored
    return (features.mean((2, 3)) if features.ndim == 4 else features.flatten(1)), logits
