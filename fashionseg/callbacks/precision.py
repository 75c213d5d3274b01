"""Mixed precision: fastai's MixedPrecision on CUDA (fp16 with a grad scaler, or bf16); on CPU, bf16
through our own autocast callback, since fastai's only autocasts on CUDA."""
from __future__ import annotations

import torch
from fastai.callback.core import Callback
from fastai.torch_core import to_float

from fashionseg.callbacks.core import ORDER
from fashionseg.errors import FashionsegError


class Autocast(Callback):
    """Runs forward pass and loss under `torch.autocast(device_type, dtype)`; predictions come out as
    float32 (as fastai's MixedPrecision does), so the loss, metrics and the recorder see float32."""

    order = ORDER["Autocast"]

    def __init__(self, device_type: str = "cpu", dtype=torch.bfloat16):
        self.device_type, self.dtype, self.ctx = device_type, dtype, None

    def before_batch(self):
        self.ctx = torch.autocast(self.device_type, dtype=self.dtype)
        self.ctx.__enter__()

    def after_pred(self):
        self.learn.pred = to_float(self.pred)

    def leave(self):
        """Leave autocast once per batch, also when a batch or the fit was cancelled before the loss."""
        if self.ctx is not None:
            self.ctx.__exit__(None, None, None)
            self.ctx = None

    after_loss = after_batch = after_fit = leave


def check_precision(precision: str, on: torch.device):
    """fp16 needs CUDA (fastai's grad scaler is CUDA's); bf16 on CUDA needs a GPU that has it."""
    if precision == "fp16" and on.type != "cuda":
        raise FashionsegError("precision fp16 needs a CUDA GPU; on this CPU use --precision bf16 (or 32)")
    if precision == "bf16" and on.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise FashionsegError("precision bf16 is not supported by this GPU; use --precision fp16 (or 32)")


def precision_callbacks(precision: str, on: torch.device) -> list[Callback]:
    """The callback that trains the model at `precision` on device `on` (none for 32)."""
    if precision == "32":
        return []
    if on.type == "cuda":
        from fastai.callback.fp16 import MixedPrecision

        return [MixedPrecision(amp_mode=precision)]
    return [Autocast(on.type, torch.bfloat16)]
