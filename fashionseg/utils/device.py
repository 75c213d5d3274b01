"""The device fashionseg computes on: CUDA when present, else the CPU."""
from __future__ import annotations

import torch
from fastai.torch_core import default_device


def device() -> torch.device:
    """CUDA when present, else CPU."""
    return default_device(None if torch.cuda.is_available() else False)
