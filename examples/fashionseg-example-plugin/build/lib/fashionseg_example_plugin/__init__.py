"""An example third-party fashionseg plugin: a tiny MLP, a top-2 accuracy metric and a recipe.

This module is what the entry point names, so `fashionseg list` and `--help` import it: it
stays light. Factories are "module:attribute" strings, imported only when a run builds them;
torch is imported by the `models` submodule, never here.
"""
from fashionseg.plugin import Architecture, Metric, Recipe, hookimpl

HERE = __name__


@hookimpl
def fashionseg_architectures():
    return [Architecture("example-mlp", f"{HERE}.models:tiny_mlp", task="classification",
                         description="A two-layer perceptron over the flattened 28x28 image.",
                         input_size=(28, 28), feature_layer="-1")]


@hookimpl
def fashionseg_metrics():
    return [Metric("example-top2-accuracy", f"{HERE}.metrics:top2_accuracy_metric", task="classification",
                   description="Share of items whose true class is among the two highest scores.")]


@hookimpl
def fashionseg_recipes():
    return [Recipe(name="example-mlp", dataset="fashion-mnist", arch="example-mlp",
                   metrics=["accuracy", "example-top2-accuracy"], epochs=2, lr=3e-3, bs=256,
                   description="The example plugin's MLP on Fashion-MNIST.")]
