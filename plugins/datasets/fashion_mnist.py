"""Fashion-MNIST as a classification data set over uint8 tensors."""
import torch
from fastai.data.transforms import Normalize

from fashionseg import Data, Dataset, hookimpl
from fashionseg.data import fashion_mnist, split_indices
from fashionseg.data.augment import augmentations
from fashionseg.data.tensor_block import CategoryTensorBlock, ImageTensorBlock, tensor_datablock
from fashionseg.errors import FashionsegError


def fashion_mnist_data(recipe, device=None) -> Data:
    """Zalando's 70,000 28x28 clothing images in 10 classes (IDX files)."""
    opts = dict(recipe.data_options)
    augment = opts.pop("augment", "none")
    path = opts.pop("path", None)
    if opts:
        raise FashionsegError(f"fashion-mnist takes data options path and augment, not {', '.join(opts)}")
    augment_tfms = augmentations(augment)  # a wrong name fails before the data is read
    mean, std = [fashion_mnist.MEAN], [fashion_mnist.STD]
    raw = fashion_mnist.load(path)
    images = torch.cat([raw["train_images"], raw["test_images"]])
    labels = torch.cat([raw["train_labels"], raw["test_labels"]])
    splits = split_indices(len(raw["train_labels"]), len(raw["test_labels"]), recipe.valid, recipe.seed, recipe.limit)
    block = tensor_datablock(
        ImageTensorBlock(images), CategoryTensorBlock(labels, fashion_mnist.CLASSES), splits,
        batch_tfms=[Normalize.from_stats(mean, std, cuda=False), *augment_tfms],
    )
    dls = block.dataloaders(range(len(images)), bs=recipe.bs, num_workers=0, device=device)
    return Data(dls, list(fashion_mnist.CLASSES), "classification", n_in=1, stats=(mean, std))


@hookimpl
def fashionseg_datasets():
    return [Dataset("fashion-mnist", fashion_mnist_data, task="classification")]
