"""Your own image/mask folders: class names and colours given once in the recipe."""
from fashionseg.plugin import Data, DataRequest, FashionsegError, folder_data


def mask_folder_data(request: DataRequest) -> Data:
    """Pairs under data_options.path (train/, test/, or a VOC folder); masks as class indices or RGB colours."""
    opts = dict(request.options)
    path, classes = opts.pop("path"), opts.pop("classes")
    if not path:
        raise FashionsegError("mask-folder needs data_options.path: the folder holding train/ (and test/)")
    return folder_data(path, classes, request, opts)
