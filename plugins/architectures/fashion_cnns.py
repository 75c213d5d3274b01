"""Small CNNs for 28x28 single-channel images, as laid out in the source reports,
plus `fmnist-fastnet`, our own fast, strong Fashion-MNIST model."""
from torch import nn

from fashionseg.layers import conv_bn_relu


def _conv(n_in, n_out, k, padding=0, bn=True):
    layers = [nn.Conv2d(n_in, n_out, k, padding=padding)]
    return layers + ([nn.BatchNorm2d(n_out)] if bn else []) + [nn.ReLU(inplace=True), nn.MaxPool2d(2)]


def seed000_cnn(n_classes=10, n_in=1):
    """Two conv-BN-ReLU-pool blocks and three linear layers (91.52% reported)."""
    return nn.Sequential(
        *_conv(n_in, 32, 3, padding=1), *_conv(32, 64, 3),
        nn.Flatten(), nn.Linear(64 * 6 * 6, 600), nn.Dropout(0.25),
        nn.Linear(600, 120), nn.Linear(120, n_classes),
    )


def basenet(n_classes=10, n_in=1):
    """LeNet-like: two conv-ReLU-pool blocks, a 12-unit hidden layer (63.5% reported)."""
    return nn.Sequential(
        *_conv(n_in, 6, 5, bn=False), *_conv(6, 12, 5, bn=False),
        nn.Flatten(), nn.Linear(12 * 4 * 4, 12), nn.ReLU(inplace=True), nn.Linear(12, n_classes),
    )


def basenet_improved(n_classes=10, n_in=1):
    """basenet with batch norm, wider convs and dropout (89.8-90.2% reported)."""
    return nn.Sequential(
        *_conv(n_in, 12, 5), *_conv(12, 24, 5), nn.Flatten(),
        nn.Linear(24 * 4 * 4, 192), nn.Dropout(0.5), nn.ReLU(inplace=True),
        nn.Linear(192, 12), nn.Dropout(0.5), nn.ReLU(inplace=True),
        nn.Linear(12, n_classes),
    )


def _stage(n_in, n_out, convs):
    return [layer for i in range(convs) for layer in conv_bn_relu(n_in if i == 0 else n_out, n_out)]


def fmnist_fastnet(n_classes=10, n_in=1, widths=(32, 64, 128), convs=1, hidden=256, dropout=0.3):
    """Our fast model: 3x3 conv stages at 28, 14 and 7 pixels and a wide dense head."""
    c1, c2, c3 = widths
    return nn.Sequential(
        *_stage(n_in, c1, convs), nn.MaxPool2d(2),
        *_stage(c1, c2, convs), nn.MaxPool2d(2),
        *_stage(c2, c3, convs), nn.Flatten(),
        nn.Dropout(dropout), nn.Linear(c3 * 7 * 7, hidden), nn.ReLU(inplace=True),
        nn.Dropout(dropout), nn.Linear(hidden, n_classes),
    )
