"""Fashion-MNIST items pasted at random positions on a blank canvas, for localisation
experiments (class activation maps): the label is the class, the paste box is kept."""
import torch
from fastai.data.block import TransformBlock
from fastai.data.transforms import IntToFloatTensor, Normalize

from fashionseg import Data, Dataset, hookimpl
from fashionseg.data import fashion_mnist, split_indices
from fashionseg.data.augment import augmentations
from fashionseg.data.placed import PasteOnCanvas, canvas_stats, paste_boxes, paste_offsets
from fashionseg.data.tensor_block import BatchIndexDL, CategoryTensorBlock, tensor_datablock
from fashionseg.errors import FashionsegError

OPTIONS = {"canvas": 56, "placement_seed": 0, "augment": "none", "path": None, "test_limit": 0}


def placed_fashion_mnist_data(recipe, device=None) -> Data:
    """Fashion-MNIST pasted at a seeded random spot on a blank canvas (default 56x56)."""
    unknown = set(recipe.data_options) - set(OPTIONS)
    if unknown:
        raise FashionsegError(f"placed-fashion-mnist takes data options {', '.join(OPTIONS)}, "
                              f"not {', '.join(sorted(unknown))}")
    opts = {**OPTIONS, **recipe.data_options}
    augment_tfms = augmentations(opts["augment"])  # a wrong name fails before the data is read
    raw = fashion_mnist.load(opts["path"])
    images = torch.cat([raw["train_images"], raw["test_images"]])
    labels = torch.cat([raw["train_labels"], raw["test_labels"]])
    canvas, size = int(opts["canvas"]), images.shape[-1]
    offsets = paste_offsets(len(images), canvas, size, int(opts["placement_seed"]))
    splits = split_indices(len(raw["train_labels"]), len(raw["test_labels"]), recipe.valid, recipe.seed, recipe.limit)
    if opts["test_limit"]:
        splits = (*splits[:-1], splits[-1][: int(opts["test_limit"])])
    mean, std = canvas_stats(raw["train_images"], canvas)
    x_block = TransformBlock(type_tfms=PasteOnCanvas(images, offsets, canvas), batch_tfms=IntToFloatTensor,
                             dl_type=BatchIndexDL)
    block = tensor_datablock(x_block, CategoryTensorBlock(labels, fashion_mnist.CLASSES), splits,
                             batch_tfms=[Normalize.from_stats([mean], [std], cuda=False), *augment_tfms])
    dls = block.dataloaders(range(len(images)), bs=recipe.bs, num_workers=0, device=device)
    return Data(dls, list(fashion_mnist.CLASSES), "classification", n_in=1, stats=([mean], [std]),
                info={"boxes": paste_boxes(offsets, size), "canvas": canvas})


@hookimpl
def fashionseg_datasets():
    return [Dataset("placed-fashion-mnist", placed_fashion_mnist_data, task="classification")]
