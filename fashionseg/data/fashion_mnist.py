"""Fashion-MNIST from its four IDX files, decoded once into uint8 tensors."""
from __future__ import annotations

from functools import lru_cache

import torch

from fashionseg.data.idx import check_labelled, read_idx
from fashionseg.data.locate import cache_root, download as fetch, find_data, not_found
from fashionseg.errors import FashionsegError

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530  # training-set pixel statistics (of values scaled to 0-1)
MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FILES = {  # upstream MD5 sums of the gzip files
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


def locate(path=None, download: bool = False):
    """The folder with the four files: explicit path, $FASHIONSEG_DATA, system, cache; downloaded
    into the cache only when `download` is true."""
    folder = find_data("fashion-mnist", list(FILES), path)
    if folder is not None:
        return folder
    if not download:
        raise not_found("fashion-mnist", path, downloadable=True)
    folder = cache_root() / "fashion-mnist"
    for name, md5 in FILES.items():
        fetch(MIRROR + name, folder / name, md5)
    return folder


@lru_cache(maxsize=2)
def load(path=None, download: bool = False) -> dict[str, torch.Tensor]:
    """Train and test images (N, 28, 28) and labels (N,), all uint8."""
    folder = locate(path, download)
    splits = {**read_split(folder, "train", "train"), **read_split(folder, "t10k", "test")}
    train, test = (splits[f"{key}_images"].shape[1:] for key in ("train", "test"))
    if train != test:
        raise FashionsegError(f"{folder / 't10k-images-idx3-ubyte.gz'} holds {test[0]}x{test[1]} images but the "
                              f"training images are {train[0]}x{train[1]}; both files must come from the same "
                              "release: replace them with the original files")
    return splits


def read_split(folder, stem: str, key: str) -> dict[str, torch.Tensor]:
    """`<key>_images` and `<key>_labels` from `<stem>-images/labels` files, checked to match."""
    images_file, labels_file = folder / f"{stem}-images-idx3-ubyte.gz", folder / f"{stem}-labels-idx1-ubyte.gz"
    images, labels = read_idx(images_file, dims=3), read_idx(labels_file, dims=1)
    check_labelled(images_file, images, labels_file, labels, len(CLASSES))
    return {f"{key}_images": images, f"{key}_labels": labels}


def tensors(options: dict) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """Training then test images `(N, 28, 28)` and labels `(N,)` in one tensor each, and the two
    counts: what both Fashion-MNIST data sets build on. Honours `path` and `download` options."""
    raw = load(options.get("path"), bool(options.get("download", False)))
    images = torch.cat([raw["train_images"], raw["test_images"]])
    labels = torch.cat([raw["train_labels"], raw["test_labels"]])
    return images, labels, len(raw["train_labels"]), len(raw["test_labels"])
