"""Mini Facade: CMP building facades at 256x256 in five classes, from palette PNG masks."""
from fashionseg.plugin import Data, DataRequest, FashionsegError, find_data, folder_data, not_found

from . import FOLDER_OPTIONS

CLASSES = {"others": "#000000", "facade": "#0080FF", "pillar": "#80FF80", "window": "#FF8000", "balcony": "#FF0000"}
FOLDERS = ["train", "test_dev"]


def locate(path=None):
    """The folder holding train/ and test_dev/: explicit path, $FASHIONSEG_DATA, system, cache."""
    folder = find_data("mini-facade", FOLDERS, path)
    if folder is None:
        raise FashionsegError(f"{not_found('mini-facade', path)} Mini Facade is not downloadable; "
                              "copy its train/ and test_dev/ folders there.")
    return folder


def mini_facade_data(request: DataRequest) -> Data:
    """906 training and 114 test_dev facades, 256x256; others, facade, pillar, window, balcony."""
    root = locate(request.options["path"])
    options = {**FOLDER_OPTIONS, "test": "test_dev", "augment": request.options["augment"],
               "ignore_index": request.options["ignore_index"]}
    return folder_data(root, CLASSES, request, options)
