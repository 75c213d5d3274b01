"""The hooks a fashionseg plugin can implement. Each takes no arguments and returns a list.

A plugin is a module (or object) with `@hookimpl` functions named after these specs,
announced by an entry point in group `fashionseg`; the built-in plugins register the same way.
Keep the module light: name factories as `"module:attribute"` strings (imported when the
component is built) so that `fashionseg list` does not import torch.
"""
import pluggy

hookspec = pluggy.HookspecMarker("fashionseg")
hookimpl = pluggy.HookimplMarker("fashionseg")


@hookspec
def fashionseg_tasks():
    """Contribute kinds of experiment: a list of `fashionseg.Task` (loss axis, evaluation, figures, predict)."""


@hookspec
def fashionseg_architectures():
    """Contribute models: a list of `fashionseg.Architecture` (factory `(n_classes, n_in, **options) -> nn.Module`)."""


@hookspec
def fashionseg_architecture_providers():
    """Contribute families of models by prefix: a list of `fashionseg.ArchitectureProvider` (`timm:<model>`)."""


@hookspec
def fashionseg_metrics():
    """Contribute metrics: a list of `fashionseg.Metric`, stage "epoch" (a fastai metric) or "final" (an evaluator)."""


@hookspec
def fashionseg_datasets():
    """Contribute data sets: a list of `fashionseg.Dataset` (factory `(DataRequest) -> Data`, declared options)."""


@hookspec
def fashionseg_recipes():
    """Contribute ready-made experiments: a list of `fashionseg.Recipe`."""
