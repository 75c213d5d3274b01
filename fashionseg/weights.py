"""Weights in and out: `state_dict`s only, loaded with `weights_only=True`; every way a weights
file can be wrong (truncated, not torch's, refused, another architecture) is one clear error."""
from __future__ import annotations

import pickle
import re
from pathlib import Path

import torch

from .errors import FashionsegError


def read_state_dict(path: Path, remedy: str) -> dict:
    """The state_dict in a weights file (fastai's `{"model": ..., "opt": ...}` too); `remedy` ends
    the error for a file that cannot be read."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = refusal(str(exc))
        if reason is None:
            raise FashionsegError(f"{path} is truncated or not a torch weights file (it is no pickle torch can "
                                  f"read); {remedy}") from None
        raise FashionsegError(f"{path} was refused: it holds {reason}, and weights are loaded only as tensors and "
                              "plain containers, so no code in a file ever runs; save the model's state_dict() "
                              "with torch.save and load that") from None
    except Exception as exc:  # torch raises RuntimeError, EOFError, KeyError... for a truncated or foreign file
        raise FashionsegError(f"{path} is truncated or not a torch weights file ({first_sentence(exc)}); "
                              f"{remedy}") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict) and "opt" in state:
        state = state["model"]
    if not (isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())):
        raise FashionsegError(f"{path} holds a {type(state).__name__}, not a state_dict of tensors; {remedy}")
    return state


def refusal(message: str) -> str | None:
    """What `weights_only` refused, from torch's message; None when the data is no pickle at all."""
    if "Weights only load failed" not in message or "Unsupported operand" in message:
        return None
    found = re.search(r"Unsupported global: GLOBAL (\S+)", message)
    if found:
        return f"an object of type {found.group(1)}"
    found = re.search(r"WeightsUnpickler error:\s*([^.\n]+)", message)
    return f"something other than tensors ({found.group(1).strip()})" if found else "something other than tensors"


def first_sentence(exc: Exception) -> str:
    text = str(exc).strip().split("\n")[0].split(". ")[0].rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def mismatch(own: dict, state: dict) -> str:
    """How `state` differs from a model's own state_dict `own` (missing, unexpected, other shapes); '' if it fits."""
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shaped = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    found = []
    if missing:
        found.append(f"{len(missing)} tensor(s) missing, e.g. {missing[0]}")
    if unexpected:
        found.append(f"{len(unexpected)} unexpected, e.g. {unexpected[0]}")
    if shaped:
        k = shaped[0]
        found.append(f"{len(shaped)} of another shape, e.g. {k} is {list(state[k].shape)} in the file but "
                     f"{list(own[k].shape)} in the model")
    return "; ".join(found)


def load_local_weights(model: torch.nn.Module, weights) -> torch.nn.Module:
    """Load a local state_dict into `model`, skipping tensors of another shape (a new head).

    Pretrained weights are never downloaded: they come from a file the user names.
    """
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FashionsegError(f"weights file {path} does not exist; pretrained weights are never downloaded here")
    state = read_state_dict(path, "pass a file saved with torch.save(model.state_dict(), path)")
    own = model.state_dict()
    kept = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not kept:
        raise FashionsegError(f"{path} shares no tensors with this model; is it the right architecture?")
    model.load_state_dict(kept, strict=False)
    return model
