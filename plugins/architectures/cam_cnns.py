"""CNNs with a class-map head: a 1x1 convolution gives one map per class and global
pooling of each map gives the logits, so the maps show where each class was seen."""
from torch import nn

from fashionseg.plugin import FashionsegError, conv_bn_relu

POOLS = {"avg": nn.AdaptiveAvgPool2d, "max": nn.AdaptiveMaxPool2d}


class ClassMapNet(nn.Module):
    """Features -> 1x1 conv -> class maps -> global pooling -> logits.

    `class_maps(x)` is the hook the `fashionseg cam` command looks for.
    """

    def __init__(self, features: nn.Module, n_features: int, n_classes: int, pool: str = "avg"):
        super().__init__()
        self.features = features
        self.classifier = nn.Conv2d(n_features, n_classes, 1)
        if pool not in POOLS:
            raise FashionsegError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")
        self.pool = POOLS[pool](1)

    def class_maps(self, x):
        return self.classifier(self.features(x))

    def forward(self, x):
        return self.pool(self.class_maps(x)).flatten(1)


def _block(n_in, n_out, k, bn):
    layers = [nn.Conv2d(n_in, n_out, k, bias=not bn)]
    return layers + ([nn.BatchNorm2d(n_out)] if bn else []) + [nn.ReLU(inplace=True), nn.MaxPool2d(2)]


def cam_cnn(n_classes=10, n_in=1, widths=(16, 32), kernel=5, bn=False, pool="avg"):
    """The report's CAM network: two 5x5 conv-ReLU-pool blocks, a class-map head (81.03%)."""
    layers, prev = [], n_in
    for width in widths:
        layers += _block(prev, width, kernel, bn)
        prev = width
    return ClassMapNet(nn.Sequential(*layers), prev, n_classes, pool)


def cam_fast_cnn(n_classes=10, n_in=1, patch=2, widths=(32, 64, 128), extra=(0, 0, 0), pool="avg"):
    """Space-to-depth stem, conv-BN-ReLU stages halving the size, class-map head: fast on CPU."""
    layers, prev = [nn.PixelUnshuffle(patch)], n_in * patch * patch
    for i, (width, more) in enumerate(zip(widths, extra)):
        layers += conv_bn_relu(prev, width) + sum((conv_bn_relu(width, width) for _ in range(more)), [])
        if i < len(widths) - 1:
            layers.append(nn.MaxPool2d(2))
        prev = width
    return ClassMapNet(nn.Sequential(*layers), prev, n_classes, pool)
