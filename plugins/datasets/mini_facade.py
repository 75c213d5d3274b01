"""Mini Facade: CMP building facades at 256x256 in five classes, from palette PNG masks."""
from fashionseg import Data, Dataset, hookimpl
from fashionseg.data.locate import find_data, not_found
from fashionseg.data.segmentation import check_options, folder_data
from fashionseg.errors import FashionsegError

CLASSES = {"others": "#000000", "facade": "#0080FF", "pillar": "#80FF80", "window": "#FF8000", "balcony": "#FF0000"}
FOLDERS = ["train", "test_dev"]


def locate(path=None):
    """The folder holding train/ and test_dev/: explicit path, $FASHIONSEG_DATA, system, cache."""
    folder = find_data("mini-facade", FOLDERS, path)
    if folder is None:
        raise FashionsegError(f"{not_found('mini-facade', path)} Mini Facade is not downloadable; "
                              "copy its train/ and test_dev/ folders there.")
    return folder


def mini_facade_data(recipe, device=None) -> Data:
    """906 training and 114 test_dev facades, 256x256; others, facade, pillar, window, balcony."""
    opts = check_options("mini-facade", dict(recipe.data_options), ["path", "augment"])
    root = locate(opts.pop("path", None))
    return folder_data(root, CLASSES, recipe, device, test="test_dev", **opts)


@hookimpl
def fashionseg_datasets():
    return [Dataset("mini-facade", mini_facade_data, task="segmentation")]
