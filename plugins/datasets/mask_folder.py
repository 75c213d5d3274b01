"""Your own image/mask folders: class names and colours given once in the recipe."""
from fashionseg import Data, Dataset, hookimpl
from fashionseg.data.segmentation import FOLDER_OPTIONS, check_options, folder_data
from fashionseg.errors import FashionsegError


def mask_folder_data(recipe, device=None) -> Data:
    """Pairs under data_options.path (train/, test/); masks as class indices or RGB colours."""
    opts = check_options("mask-folder", dict(recipe.data_options), ["path", "classes", *FOLDER_OPTIONS])
    path, classes = opts.pop("path", None), opts.pop("classes", None)
    if not path:
        raise FashionsegError("mask-folder needs data_options.path: the folder holding train/ (and test/)")
    if not isinstance(classes, dict) or len(classes) < 2:
        raise FashionsegError("mask-folder needs data_options.classes: {name: '#RRGGBB', ...} in class-index order")
    return folder_data(path, classes, recipe, device, **opts)


@hookimpl
def fashionseg_datasets():
    return [Dataset("mask-folder", mask_folder_data, task="segmentation")]
