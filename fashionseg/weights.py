"""Weights in and out: `state_dict`s only, loaded with `weights_only=True`."""
from __future__ import annotations

from pathlib import Path

import torch

from .errors import FashionsegError


def load_local_weights(model: torch.nn.Module, weights) -> torch.nn.Module:
    """Load a local state_dict into `model`, skipping tensors of another shape (a new head).

    Pretrained weights are never downloaded: they come from a file the user names.
    """
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FashionsegError(f"weights file {path} does not exist; pretrained weights are never downloaded here")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise FashionsegError(f"{path} is not a loadable state_dict: {exc}") from exc
    own = model.state_dict()
    kept = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not kept:
        raise FashionsegError(f"{path} shares no tensors with this model; is it the right architecture?")
    model.load_state_dict(kept, strict=False)
    return model
