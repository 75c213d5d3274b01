"""The original U-Net layout (Ronneberger et al. 2015) with same-padding convolutions, so
the score map is the input's size."""
import torch
from torch import nn

from fashionseg.plugin import PadToMultiple, conv_bn_relu


def double_conv(n_in, n_out, batch_norm=True):
    if batch_norm:
        return nn.Sequential(*conv_bn_relu(n_in, n_out), *conv_bn_relu(n_out, n_out))
    return nn.Sequential(nn.Conv2d(n_in, n_out, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(n_out, n_out, 3, padding=1), nn.ReLU(inplace=True))


class UNetClassic(nn.Module):
    """Four 2x downsampling steps, four transposed-conv upsampling steps, skips concatenated."""

    def __init__(self, n_classes, n_in=3, width=64, batch_norm=True):
        super().__init__()
        widths = [width * 2 ** i for i in range(5)]
        self.down = nn.ModuleList(double_conv(a, b, batch_norm) for a, b in zip([n_in, *widths[:-1]], widths))
        self.up = nn.ModuleList(nn.ConvTranspose2d(b, a, 2, stride=2) for a, b in zip(widths[-2::-1], widths[:0:-1]))
        self.merge = nn.ModuleList(double_conv(2 * a, a, batch_norm) for a in widths[-2::-1])
        self.head = nn.Conv2d(width, n_classes, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1])):
            x = merge(torch.cat([skip, up(x)], 1))
        return self.head(x)


def unet_classic(n_classes, n_in=3, width=64, batch_norm=True):
    """Original U-Net: double 3x3 conv blocks, 4 down, 4 up, skip concatenation; base width 64."""
    return PadToMultiple(UNetClassic(n_classes, n_in, width, batch_norm), 16)
