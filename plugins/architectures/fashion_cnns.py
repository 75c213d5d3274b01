"""Small CNNs for 28x28 single-channel images, as laid out in the source reports,
plus `fmnist-fastnet`, our own fast, strong Fashion-MNIST model."""
from torch import nn

from fashionseg.plugin import conv_bn_relu


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


def basenet(n_classes=10, n_in=1, widths=(6, 12), bn=False, hidden=(12,), dropout=(0.0,)):
    """LeNet-like: two 5x5 conv(-BN)-ReLU-pool blocks, then a linear(-dropout)-ReLU layer per `hidden` width
    (63.5% reported for the defaults). Its ablation steps toward basenet-improved are options of this one
    family, so each variant keeps the same layer order and weight names."""
    if len(dropout) != len(hidden):
        raise ValueError(f"dropout needs one rate per hidden layer: {len(hidden)} hidden, {len(dropout)} rates")
    layers, n = [*_conv(n_in, widths[0], 5, bn=bn), *_conv(widths[0], widths[1], 5, bn=bn), nn.Flatten()], widths[1] * 16
    for width, p in zip(hidden, dropout):
        layers += [nn.Linear(n, width), *([nn.Dropout(p)] if p else []), nn.ReLU(inplace=True)]
        n = width
    return nn.Sequential(*layers, nn.Linear(n, n_classes))


def basenet_bn(n_classes=10, n_in=1):
    """Ablation step 1: basenet with batch norm after each conv (70.1% reported)."""
    return basenet(n_classes, n_in, bn=True)


def basenet_bn_fc1(n_classes=10, n_in=1):
    """Ablation step 2: + a first 192-unit linear layer with dropout 0.5 ahead of the 12-unit one (82.3%)."""
    return basenet(n_classes, n_in, bn=True, hidden=(192, 12), dropout=(0.5, 0.0))


def basenet_bn_fc2(n_classes=10, n_in=1):
    """Ablation step 3: + dropout 0.5 on the second (12-unit) linear layer too: basenet-improved's head
    on basenet's 6/12 convs (88.0% reported)."""
    return basenet(n_classes, n_in, bn=True, hidden=(192, 12), dropout=(0.5, 0.5))


def basenet_improved(n_classes=10, n_in=1):
    """basenet with batch norm, wider convs (12/24) and dropout (89.8-90.2% reported; 90.2 in the ablation)."""
    return basenet(n_classes, n_in, widths=(12, 24), bn=True, hidden=(192, 12), dropout=(0.5, 0.5))


def per_stage(convs) -> tuple[int, int, int]:
    """`convs` as three per-stage counts, each at least 1; a clear error for anything else."""
    counts = [convs] * 3 if isinstance(convs, int) else list(convs) if isinstance(convs, (list, tuple)) else None
    if counts is None or len(counts) != 3 or not all(isinstance(c, int) and c >= 1 for c in counts):
        raise ValueError(f"convs is a number of convs per stage (at least 1) or three of them such as [1, 2, 2], "
                         f"not {convs!r}")
    return tuple(counts)


def _stage(n_in, n_out, convs, pool=False, pool_first=False):
    """`convs` conv-BN-ReLU layers, then a 2x2 max pool (`pool`); `pool_first`: the pool right after the first
    conv, before its norm, so the norm, the activation and the stage's other convs work on a quarter of the pixels."""
    layers = [layer for i in range(convs) for layer in conv_bn_relu(n_in if i == 0 else n_out, n_out)]
    if pool and pool_first:
        return [layers[0], nn.MaxPool2d(2), *layers[1:]]
    return layers + ([nn.MaxPool2d(2)] if pool else [])


def fmnist_fastnet(n_classes=10, n_in=1, widths=(32, 64, 128), convs=1, hidden=256, dropout=0.3, pool_first=False):
    """Our fast model: 3x3 conv stages at 28, 14 and 7 pixels and a wide dense head.

    `convs`: conv-BN-ReLU layers per stage, one number for all three or one per stage, e.g. [1, 2, 2].
    `pool_first`: each pooling stage pools right after its first conv (airbench's conv-pool-norm-activation
    order): the same output size for less work in the norms, activations and the stage's later convs."""
    c1, c2, c3 = widths
    n1, n2, n3 = per_stage(convs)
    return nn.Sequential(
        *_stage(n_in, c1, n1, pool=True, pool_first=pool_first),
        *_stage(c1, c2, n2, pool=True, pool_first=pool_first),
        *_stage(c2, c3, n3), nn.Flatten(),
        nn.Dropout(dropout), nn.Linear(c3 * 7 * 7, hidden), nn.ReLU(inplace=True),
        nn.Dropout(dropout), nn.Linear(hidden, n_classes),
    )
