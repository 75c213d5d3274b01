"""Plugin `architectures`: every built-in model, registered by name.

Factories are named as "module:function" strings, so listing them imports no torch; each
module in this folder holds the models of one family.
"""
from fashionseg.plugin import Architecture, ArchitectureProvider, hookimpl

HERE = __name__
FASHION_28 = (28, 28)  # the Fashion-MNIST CNNs flatten 28x28 feature maps into linear layers
FASHION_CNNS = [  # (name, function in fashion_cnns.py, description): 28x28 inputs, features before the head
    ("seed000-cnn", "seed000_cnn", "Two conv-BN-ReLU-pool blocks and three linear layers (91.52% reported)."),
    ("basenet", "basenet", "LeNet-like: two conv-ReLU-pool blocks, a 12-unit hidden layer (63.5% reported)."),
    ("basenet-bn", "basenet_bn", "Ablation step 1 to basenet-improved: basenet + batch norm (70.1% reported)."),
    ("basenet-bn-fc1", "basenet_bn_fc1", "Ablation step 2: + a 192-unit first linear layer, dropout (82.3% reported)."),
    ("basenet-bn-fc2", "basenet_bn_fc2", "Ablation step 3: + dropout on the second linear layer (88.0% reported)."),
    ("basenet-improved", "basenet_improved", "basenet with batch norm, wider convs and dropout (89.8-90.2% reported)."),
    ("fmnist-fastnet", "fmnist_fastnet",
     "Our fast model: 3x3 conv stages at 28, 14 and 7 pixels and a wide dense head."),
]


IMAGENET_STATS = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])  # what ImageNet weights (smp's, torchvision's) expect


def imagenet(option: str) -> dict:
    """`weights: pretrained` as the factory option that loads the ImageNet weights, with ImageNet's statistics."""
    return dict(pretrained_options={option: "imagenet"}, pretrained_stats=lambda: IMAGENET_STATS)


def _arch(name, target, task, description, **declared):
    return Architecture(name, f"{HERE}.{target}", task=task, description=description, **declared)


@hookimpl
def fashionseg_architectures():
    cls, seg = "classification", "segmentation"
    return [
        *[_arch(name, f"fashion_cnns:{function}", cls, description, input_size=FASHION_28, feature_layer="-1")
          for name, function, description in FASHION_CNNS],
        _arch("resnet101", "timm_classifiers:resnet101", cls,
              "timm ResNet-101 with an n_in-channel stem, from scratch unless the recipe's `weights` is set.",
              feature_layer="fc"),
        _arch("cam-cnn", "cam_cnns:cam_cnn", cls,
              "The report's CAM network: two 5x5 conv-ReLU-pool blocks, a class-map head (81.03%).",
              class_maps="class_maps", feature_layer="classifier"),
        _arch("cam-fast-cnn", "cam_cnns:cam_fast_cnn", cls,
              "Space-to-depth stem, conv-BN-ReLU stages halving the size, class-map head: fast on CPU.",
              class_maps="class_maps", feature_layer="classifier"),
        _arch("unet", "smp_models:unet", seg,
              "smp U-Net, encoder by name (resnet34; 'tu-<timm name>' for timm's), from scratch unless `weights` is "
              "set (pretrained: the encoder's ImageNet weights).", **imagenet("encoder_weights")),
        _arch("deeplabv3-resnet101", "smp_models:deeplabv3_resnet101", seg,
              "smp DeepLabv3 (ASPP head) on a dilated ResNet-101, from scratch unless `weights` is set.",
              **imagenet("encoder_weights")),
        _arch("unet-classic", "unet_classic:unet_classic", seg,
              "Original U-Net: double 3x3 conv blocks, 4 down, 4 up, skip concatenation; base width 64."),
        _arch("facade-fcn", "facade_fcn:facade_fcn", seg,
              "Six 5x5 convs (64-128-256-512-512-N), BN before each after the first, 2 pools, 2 bilinear x2."),
        _arch("resnet18-fcn", "resnet_fcn:resnet18_fcn", seg,
              "torchvision ResNet-18 trunk, 512-256-128-N upsampling decoder; `dilation` for the last stage; "
              "pretrained: the trunk's ImageNet weights.", **imagenet("trunk_weights")),
        _arch("fcn32s", "vgg_fcn:fcn32s", seg,
              "VGG-16 features (with batch norm by default), fc6/fc7 as 1x1 convs; pretrained: the features' "
              "ImageNet weights.", **imagenet("features_weights")),
    ]


@hookimpl
def fashionseg_architecture_providers():
    return [ArchitectureProvider("timm", f"{HERE}.timm_classifiers:architecture", task="classification",
                                 description="any timm classification model as timm:<name>",
                                 names=f"{HERE}.timm_classifiers:names")]
