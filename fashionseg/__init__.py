"""fashionseg: one-command, reproducible fastai experiments for classification and segmentation."""
import warnings

# fastai scripts a few layers at import time; torch now calls that deprecated. Not actionable here.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")

from .components import Architecture, Dataset, Metric
from .data import Data, DataRequest
from .errors import FashionsegError
from .hookspecs import hookimpl
from .recipe import Recipe
from .task import Section, Task

__version__ = "0.1.0"


def create_model(name: str, n_classes: int, n_in: int, **options):
    """Build a registered architecture by name."""
    from .registry import create_model as _create

    return _create(name, n_classes, n_in, **options)


def list_components(kind: str, pattern: str = "*", task: str | None = None) -> list[str]:
    """Registered names of `kind` ("architecture", "metric", "dataset"), wildcards allowed."""
    from .registry import list_components as _list

    return _list(kind, pattern, task)


def main(recipe: Recipe, argv=None):
    """Run a recipe script from the command line: `python recipes/x.py [--epochs N ...]`."""
    from .cli import run_recipe_script

    return run_recipe_script(recipe, argv)


__all__ = ["Architecture", "Data", "DataRequest", "Dataset", "FashionsegError", "Metric", "Recipe", "Section", "Task",
           "create_model", "hookimpl", "list_components", "main"]
