"""The hooks a fashionseg plugin can implement; each returns a list of components."""
import pluggy

hookspec = pluggy.HookspecMarker("fashionseg")
hookimpl = pluggy.HookimplMarker("fashionseg")


@hookspec
def fashionseg_architectures():
    """Contribute model architectures: a list of `fashionseg.Architecture`."""


@hookspec
def fashionseg_metrics():
    """Contribute metrics: a list of `fashionseg.Metric`."""


@hookspec
def fashionseg_datasets():
    """Contribute data sets: a list of `fashionseg.Dataset`."""


@hookspec
def fashionseg_recipes():
    """Contribute ready-made experiments: a list of `fashionseg.Recipe`."""
