"""fashionseg: one-command, reproducible fastai experiments for classification and segmentation.

Importing the package is cheap (no torch, no fastai), so the command line answers at once;
names that need the training stack, such as `Data`, `load_run` and `build_learner`, are imported on
first use.
"""
import importlib
import warnings

# fastai scripts a few layers at import time; torch now calls that deprecated. Not actionable here.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)

from fashionseg.errors import FashionsegError  # noqa: E402
from fashionseg.recipe.schema import Recipe  # noqa: E402
from fashionseg.registry.components import Architecture, ArchitectureProvider, Dataset, Metric  # noqa: E402
from fashionseg.registry.hookspecs import hookimpl  # noqa: E402
from fashionseg.registry.task import Section, Task  # noqa: E402

from .version import __version__  # noqa: E402,F401

# Public names imported only when first used: name -> module holding it.
LAZY = {"Data": "fashionseg.data", "DataRequest": "fashionseg.data", "Run": "fashionseg.api",
        "TrainedRun": "fashionseg.api", "build_learner": "fashionseg.api", "load_run": "fashionseg.api",
        "RunSummary": "fashionseg.run_folders.summary"}


def __getattr__(name: str):
    if name not in LAZY:
        raise AttributeError(f"module 'fashionseg' has no attribute {name!r}")
    value = getattr(importlib.import_module(LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *LAZY])


def create_model(name: str, n_classes: int, n_in: int, **options):
    """Build a registered architecture by name."""
    from fashionseg.registry.plugins import create_model as _create

    return _create(name, n_classes, n_in, **options)


def list_components(kind: str, pattern: str = "*", task: str | None = None) -> list[str]:
    """Registered names of `kind` ("architecture", "metric", "dataset"), wildcards allowed."""
    from fashionseg.registry.plugins import list_components as _list

    return _list(kind, pattern, task)


def main(recipe: Recipe, argv=None):
    """Run a recipe script from the command line: `python recipes/x.py [--epochs N ...]`."""
    from fashionseg.cli import run_recipe_script

    return run_recipe_script(recipe, argv)


__all__ = ["Architecture", "ArchitectureProvider", "Data", "DataRequest", "Dataset", "FashionsegError", "Metric",
           "Recipe", "Run", "RunSummary", "Section", "Task", "TrainedRun", "build_learner", "create_model",
           "hookimpl", "list_components", "load_run", "main"]
