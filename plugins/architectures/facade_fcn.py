"""The facade report's six-layer convolutional network (reported mean AP 0.643)."""
from torch import nn

from fashionseg.plugin import PadToMultiple


def facade_fcn(n_classes, n_in=3, widths=(64, 128, 256, 512, 512)):
    """Six 5x5 convs (64-128-256-512-512-N), BN before each after the first, 2 pools, 2 bilinear x2."""
    chans = [n_in, *widths]
    layers = []
    for i in range(len(widths)):
        if i > 0:
            layers.append(nn.BatchNorm2d(chans[i]))
        layers += [nn.Conv2d(chans[i], chans[i + 1], 5, padding=2), nn.ReLU(inplace=True)]
        if i in (0, 1):
            layers.append(nn.MaxPool2d(2))
        if i in (3, 4):
            layers.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
    layers += [nn.BatchNorm2d(chans[-1]), nn.Conv2d(chans[-1], n_classes, 3, padding=1)]
    return PadToMultiple(nn.Sequential(*layers), 4)
