"""Building blocks shared by the built-in architectures."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from fashionseg.errors import FashionsegError


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d] | None:
    """The model's first 2-D convolution in definition order (the one that sees the images) and its name; None
    when it has none."""
    return next(((name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)), None)


def conv_bn_relu(n_in: int, n_out: int, kernel: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(n_in, n_out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(n_out), nn.ReLU(inplace=True)]


class PadToMultiple(nn.Module):
    """Pads the input to a multiple of `multiple` and crops the score map back to the input size,
    so nets that halve their input several times take any size, such as 250x190."""

    def __init__(self, net: nn.Module, multiple: int):
        super().__init__()
        self.net, self.multiple = net, multiple

    def forward(self, x):
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % self.multiple, -w % self.multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        return self.net(x)[..., :h, :w]


def find_module(model: nn.Module, path: str) -> nn.Module:
    """The submodule at a dotted `path` such as "fc", "head.fc" or "-1" (an index, negative ones
    counting from the end, into a Sequential or ModuleList)."""
    module = model
    for part in path.split("."):
        if part.lstrip("-").isdigit() and isinstance(module, (nn.Sequential, nn.ModuleList)):
            module = module[int(part)]
        elif isinstance(getattr(module, part, None), nn.Module):
            module = getattr(module, part)
        else:
            raise FashionsegError(f"the model has no layer {path!r} ({part!r} not found); the architecture's "
                                  "declared feature_layer does not match its model")
    return module
