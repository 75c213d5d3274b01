"""Your own image/mask folders: class names and colours given once in the recipe."""
from fashionseg.plugin import Data, DataRequest, FashionsegError, folder_data


def mask_folder_data(request: DataRequest) -> Data:
    """Pairs under data_options.path (train/, test/); masks as class indices or RGB colours."""
    opts = dict(request.options)
    path, classes = opts.pop("path"), opts.pop("classes")
    if not path:
        raise FashionsegError("mask-folder needs data_options.path: the folder holding train/ (and test/)")
    if not isinstance(classes, dict) or len(classes) < 2:
        raise FashionsegError("mask-folder needs data_options.classes: {name: '#RRGGBB', ...} in class-index order")
    return folder_data(path, classes, request, opts)
