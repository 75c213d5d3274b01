"""Classifiers from timm, trained from scratch unless a local weights file is given."""
import timm

from fashionseg.weights import load_local_weights


def resnet101(n_classes=10, n_in=1, weights=None):
    """timm ResNet-101 with an n_in-channel stem; from scratch unless `weights` names a file."""
    model = timm.create_model("resnet101", pretrained=False, num_classes=n_classes, in_chans=n_in)
    return load_local_weights(model, weights) if weights else model
