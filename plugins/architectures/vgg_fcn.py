"""FCN-32s (Long et al. 2015): VGG-16 features, convolutional fc6/fc7, one stride-32 upsampling."""
import torch
import torchvision
from torch import nn

from fashionseg.plugin import PadToMultiple
from fashionseg_plugins.architectures.torchvision_weights import start_from

IMAGENET_URLS = {True: torchvision.models.VGG16_BN_Weights.IMAGENET1K_V1.url,  # by batch_norm
                 False: torchvision.models.VGG16_Weights.IMAGENET1K_V1.url}


def bilinear_kernel(channels: int, size: int) -> torch.Tensor:
    """Transposed-conv weights that start as bilinear interpolation, one channel to itself."""
    center = (size - 1) / 2 if size % 2 else size / 2 - 0.5
    ramp = 1 - (torch.arange(size) - center).abs() / (size // 2 + size % 2)
    weight = torch.zeros(channels, channels, size, size)
    weight[range(channels), range(channels)] = ramp[:, None] * ramp[None, :]
    return weight


def fcn32s(n_classes, n_in=3, batch_norm=True, fc_channels=4096, dropout=0.5, features_weights=None):
    """VGG-16 features (with batch norm by default), fc6/fc7 as 1x1 convs; `features_weights`: a file, or `imagenet`
    for torchvision's ImageNet VGG-16 (the features load; its fully connected layers do not fit 1x1 convs)."""
    vgg = torchvision.models.vgg16_bn(weights=None) if batch_norm else torchvision.models.vgg16(weights=None)
    features = vgg.features
    if n_in != 3:
        features[0] = nn.Conv2d(n_in, 64, 3, padding=1)
    start_from(vgg, features_weights, IMAGENET_URLS[batch_norm], "VGG-16", head="classifier")
    upscore = nn.ConvTranspose2d(n_classes, n_classes, 64, stride=32, padding=16, bias=False)
    with torch.no_grad():
        upscore.weight.copy_(bilinear_kernel(n_classes, 64))
    net = nn.Sequential(
        features,
        nn.Conv2d(512, fc_channels, 1), nn.ReLU(inplace=True), nn.Dropout2d(dropout),
        nn.Conv2d(fc_channels, fc_channels, 1), nn.ReLU(inplace=True), nn.Dropout2d(dropout),
        nn.Conv2d(fc_channels, n_classes, 1), upscore,
    )
    return PadToMultiple(net, 32)
