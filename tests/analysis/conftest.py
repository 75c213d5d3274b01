"""A tiny trained cam-cnn run on placed Fashion-MNIST, shared by the analysis tests."""
import pytest

from fashionseg import Recipe


def tiny_recipe(fashion_mnist_dir, **changes) -> Recipe:
    """cam-cnn on 512 training and 256 test canvases: seconds, yet well above chance."""
    settings = dict(name="tiny-cam", dataset="placed-fashion-mnist", arch="cam-cnn",
                    metrics=["accuracy", "per-class-accuracy"], epochs=3, lr=1e-2, bs=64, limit=512,
                    keep_best=2, log_every=3,
                    data_options={"path": str(fashion_mnist_dir)}, eval_limit=256)
    return Recipe(**{**settings, **changes})


@pytest.fixture
def make_tiny_recipe(fashion_mnist_dir):
    return lambda **changes: tiny_recipe(fashion_mnist_dir, **changes)


@pytest.fixture(scope="session")
def tiny_run(fashion_mnist_dir, tmp_path_factory):
    """The finished run folder (with checkpoints, iterations.csv and TensorBoard events)."""
    from rich.console import Console

    from fashionseg.engine.trainer import run

    recipe = tiny_recipe(fashion_mnist_dir, track=["tensorboard"])
    return run(recipe, runs_dir=tmp_path_factory.mktemp("runs"), console=Console(quiet=True)).run.path
