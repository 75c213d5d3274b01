"""An example third-party plugin: a tiny MLP, a top-2 accuracy metric and a recipe using both."""
from torch import nn

from fashionseg import Architecture, Metric, Recipe, hookimpl


def tiny_mlp(n_classes=10, n_in=1, size=28, hidden=128):
    """A two-layer perceptron over the flattened image."""
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in * size * size, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def top2_accuracy(preds, targets):
    """Share of items whose true class is among the two highest scores."""
    top2 = preds.topk(2, dim=1).indices
    return (top2 == targets.view(-1, 1)).any(1).float().mean()


@hookimpl
def fashionseg_architectures():
    return [Architecture("example-mlp", tiny_mlp, task="classification")]


@hookimpl
def fashionseg_metrics():
    return [Metric("example-top2-accuracy", lambda: top2_accuracy, task="classification")]


@hookimpl
def fashionseg_recipes():
    return [Recipe(name="example-mlp", dataset="fashion-mnist", arch="example-mlp",
                   metrics=["accuracy", "example-top2-accuracy"], epochs=2, lr=3e-3, bs=256,
                   description="The example plugin's MLP on Fashion-MNIST.")]



