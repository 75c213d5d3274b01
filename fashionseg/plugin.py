"""The plugin API: everything a fashionseg plugin imports, built-in plugins included.

A plugin imports from this one module (`from fashionseg.plugin import Architecture, hookimpl`), never
from fashionseg's internal modules, which may move between versions; docs/plugins.md teaches it.

Importing it is cheap: the component types and hook marker below come at once (no torch), and the
building blocks are imported on first use, so a plugin's entry-point module can import what its
factories need at the top without slowing down `fashionseg list`.
"""
import importlib

from fashionseg.errors import FashionsegError, unknown_name  # noqa: F401  (re-exported)
from fashionseg.recipe.schema import Recipe  # noqa: F401
from fashionseg.registry.components import Architecture, ArchitectureProvider, Dataset, Metric  # noqa: F401
from fashionseg.registry.hookspecs import hookimpl  # noqa: F401
from fashionseg.registry.task import Section, Task  # noqa: F401

# Building blocks imported on first use: name -> module holding it.
LAZY = {
    # data sets: what a factory returns, and the pieces the built-in data sets are made of
    "Data": "fashionseg.data",
    "DataRequest": "fashionseg.data",
    "tensor_dataloaders": "fashionseg.data.tensor_block",
    "ImageTensorBlock": "fashionseg.data.tensor_block",
    "CategoryTensorBlock": "fashionseg.data.tensor_block",
    "BatchIndexDL": "fashionseg.data.tensor_block",
    "MaskTensorBlock": "fashionseg.data.tensor_block",
    "MultiLabelTensorBlock": "fashionseg.data.tensor_block",
    "IndexInto": "fashionseg.data.tensor_block",
    "folder_data": "fashionseg.data.segmentation",
    "folder_splits": "fashionseg.data.image_folder",
    "list_images": "fashionseg.data.image_folder",
    "used_folders": "fashionseg.data.image_folder",
    "without": "fashionseg.data.image_folder",
    "list_tagged": "fashionseg.data.multi_label",
    "thresholds": "fashionseg.data.multi_label",
    "decoded_images": "fashionseg.data.decode_cache",
    "find_data": "fashionseg.data.locate",
    "not_found": "fashionseg.data.locate",
    "cache_root": "fashionseg.data.locate",
    "download": "fashionseg.data.locate",
    "PasteOnCanvas": "fashionseg.data.placed",
    "canvas_stats": "fashionseg.data.placed",
    "paste_boxes": "fashionseg.data.placed",
    "paste_offsets": "fashionseg.data.placed",
    "colorize": "fashionseg.data.colors",
    "default_colors": "fashionseg.data.colors",
    "as_size": "fashionseg.recipe.sizes",
    # architectures: layers shared by the built-in models, and pretrained weights
    "conv_bn_relu": "fashionseg.models.layers",
    "PadToMultiple": "fashionseg.models.layers",
    "load_pretrained": "fashionseg.models.weights",
    "hub_file": "fashionseg.models.hub",
    "torch_hub_file": "fashionseg.models.hub",
    "torch_hub_path": "fashionseg.models.hub",
    # tasks and metrics: streaming evaluation helpers and figures
    "ConfusionCounts": "fashionseg.infer.evaluate",
    "BinnedAP": "fashionseg.infer.evaluate",
    "kept": "fashionseg.infer.evaluate",
    "TopItems": "fashionseg.infer.picking",
    "plt": "fashionseg.report.figures",
    "confusion_matrix": "fashionseg.report.figures",
    "examples_figure": "fashionseg.report.figures",
    # side effects: atomic files, and printing from the main process only
    "atomic_write": "fashionseg.utils.files",
    "main_console": "fashionseg.utils.rank",
}
# Modules of the plugin API: the Fashion-MNIST reader (tensors(options), CLASSES, MEAN, STD).
MODULES = {"fashion_mnist": "fashionseg.data.fashion_mnist"}


def __getattr__(name: str):
    if name in MODULES:
        value = importlib.import_module(MODULES[name])
    elif name in LAZY:
        value = getattr(importlib.import_module(LAZY[name]), name)
    else:
        raise AttributeError(f"fashionseg.plugin has no {name!r}; the plugin API is: {', '.join(__all__)}")
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *LAZY, *MODULES])


__all__ = sorted(["Architecture", "ArchitectureProvider", "Dataset", "FashionsegError", "Metric", "Recipe", "Section",
                  "Task", "hookimpl", "unknown_name", *LAZY, *MODULES])
