"""A fastai DataBlock over data sets decoded once into tensors.

Items are integer indices; each block's transform indexes a tensor, and works just
as well on a whole tensor of indices. `BatchIndexDL` uses that to fetch a batch with
one indexing operation, so no per-item Python work runs in the training loop.
"""
from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import torch
from fastai.data.block import DataBlock, TransformBlock
from fastai.data.core import TfmdDL
from fastai.data.transforms import Category, IntToFloatTensor, MultiCategory  # noqa: F401
from fastai.torch_core import TensorCategory, TensorImage, TensorImageBW, TensorMask, TensorMultiCategory
from fasttransform import Pipeline, Transform
from PIL import Image


def shape_only(data: torch.Tensor) -> torch.Tensor:
    """An empty copy of `data` that keeps its item shape and dtype (a slice would pickle the whole storage)."""
    return data[:0].clone()


def is_index(item) -> bool:
    """An item index (int or integer tensor of indices) rather than an image given directly."""
    if torch.is_tensor(item):
        return item.ndim <= 1 and item.dtype in (torch.int64, torch.int32)
    return isinstance(item, numbers.Integral)


class IndexInto(Transform):
    """Look up item(s) by index in a tensor, typed as `tensor_type`. An image given instead of an
    index (a path, PIL image, array or uint8 tensor, as fastai's `learn.predict` passes it) is read
    at the stored items' channels and size."""

    input_types = (numbers.Integral, torch.Tensor, str, Path, Image.Image, np.ndarray)  # what fastai's test_dl takes

    def __init__(self, data: torch.Tensor, tensor_type=TensorImage):
        super().__init__()
        self.data, self.tensor_type = data, tensor_type

    def without_data(self) -> "IndexInto":
        """The same transform holding no items: it still reads images given directly."""
        return type(self)(shape_only(self.data), self.tensor_type)

    def encodes(self, idx):
        if is_index(idx):
            return self.tensor_type(self.data[idx])
        from fashionseg.data.images import as_image, resized

        c, *size = self.data.shape[1:] if self.data.ndim == 4 else (1, *self.data.shape[1:])
        image = resized(as_image(idx, c), size)
        return self.tensor_type(image if self.data.ndim == 4 else image[0])


class IndexCategory(Transform):
    """Look up integer class labels by index; decodes to the class name for display."""

    def __init__(self, labels: torch.Tensor, vocab: list[str]):
        super().__init__()
        self.labels, self.vocab = labels.long(), list(vocab)

    def without_data(self) -> "IndexCategory":
        return type(self)(shape_only(self.labels), self.vocab)

    def encodes(self, idx: int | torch.Tensor):
        return TensorCategory(self.labels[idx])

    def decodes(self, o: TensorCategory):
        return Category(self.vocab[int(o)])


def ImageTensorBlock(images: torch.Tensor):
    """Images stored as uint8 `(N, H, W)` or `(N, C, H, W)`; scaled to [0, 1] per batch."""
    if images.ndim == 3:
        images = images[:, None]
    kind = TensorImageBW if images.shape[1] == 1 else TensorImage
    return TransformBlock(type_tfms=IndexInto(images, kind), batch_tfms=IntToFloatTensor, dl_type=BatchIndexDL)


def CategoryTensorBlock(labels: torch.Tensor, vocab: list[str]):
    return TransformBlock(type_tfms=IndexCategory(labels, vocab), dl_type=BatchIndexDL)


def MultiLabelTensorBlock(targets: torch.Tensor):
    """Targets stored as one 0/1 column per label `(N, n_labels)`, for the multi-label task."""
    return TransformBlock(type_tfms=IndexInto(targets, TensorMultiCategory), dl_type=BatchIndexDL)


def MaskTensorBlock(masks: torch.Tensor, codes: list[str]):
    """Masks stored as class indices `(N, H, W)`."""
    return TransformBlock(type_tfms=IndexInto(masks, TensorMask), batch_tfms=IntToFloatTensor, dl_type=BatchIndexDL)


def without_data(dataset):
    """An empty data set's transforms rid of the tensors they index (each one's `without_data()`), so that
    fastai's `dls.new_empty()`, which `learn.export` pickles, carries no data set."""
    for tl in getattr(dataset, "tls", [dataset]):
        fs = [f.without_data() if hasattr(f, "without_data") else f for f in tl.tfms.fs]
        tl.tfms = Pipeline(fs, split_idx=tl.tfms.split_idx)
    return dataset


class BatchIndexDL(TfmdDL):
    """A `TfmdDL` that runs each block's transforms once per batch on a tensor of indices."""

    def new(self, dataset=None, cls=None, **kwargs):
        if dataset is not None and len(dataset) == 0:  # `dls.new_empty()`: the loader without its data set
            dataset = without_data(dataset)
        return super().new(dataset, cls, **kwargs)

    def create_batches(self, samps):
        if not all(map(is_index, self.dataset.items)):  # images given directly (`learn.predict`): one by one
            yield from super().create_batches(samps)
            return
        items = torch.as_tensor(list(self.dataset.items), dtype=torch.long)
        for chunk in self.chunkify(samps):
            idx = items[torch.as_tensor(chunk, dtype=torch.long)]
            yield tuple(tl.tfms(idx) for tl in self.dataset.tls)


def tensor_datablock(x_block, y_block, splits, batch_tfms=()) -> DataBlock:
    """A DataBlock whose items are the indices 0..N-1, split by the given index lists."""
    return DataBlock(blocks=(x_block, y_block), splitter=lambda _: splits, batch_tfms=list(batch_tfms))


def tensor_dataloaders(request, x_block, y_block, n_train: int, n_test: int, stats, augment: str = "none",
                       splits=None, void: int | None = None, labels=None):
    """The one builder for data decoded into tensors: items 0..n_train-1 are training items and the
    next n_test the test set; splits (unless given as index lists), batch size and device from the
    `DataRequest`, augmentation by name (training batches only), normalisation with
    `stats = (mean, std)` per channel (or the pretrained weights' statistics the request carries); `void` fills
    mask pixels moved in from outside; the training items' `labels` stratify hold-outs and folds. The tensors may
    be memory-mapped: batches index them."""
    from fastai.data.transforms import Normalize

    from fashionseg.data import augmenting

    splits = splits if splits is not None else request.splits(n_train, n_test, labels)
    stats = request.normalisation(stats)
    augment_tfms = []
    if augmenting(augment):
        from fashionseg.data.augment import augmentations

        augment_tfms = augmentations(augment, void)
    block = tensor_datablock(x_block, y_block, splits,
                             batch_tfms=[*augment_tfms, Normalize.from_stats(*stats, cuda=False)])
    return block.dataloaders(range(n_train + n_test), bs=request.bs, num_workers=0, device=request.device)
