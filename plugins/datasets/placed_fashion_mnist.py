"""Fashion-MNIST items pasted at random positions on a blank canvas, for localisation
experiments (class activation maps): the label is the class, the paste box is kept."""
from fastai.data.block import TransformBlock
from fastai.data.transforms import IntToFloatTensor

from fashionseg.plugin import (BatchIndexDL, CategoryTensorBlock, Data, DataRequest, PasteOnCanvas, canvas_stats,
                               fashion_mnist, paste_boxes, paste_offsets, tensor_dataloaders)


def placed_fashion_mnist_data(request: DataRequest) -> Data:
    """Fashion-MNIST pasted at a seeded random spot on a blank canvas (default 56x56)."""
    opts = request.options
    images, labels, n_train, n_test = fashion_mnist.tensors(opts)
    canvas, size = int(opts["canvas"]), images.shape[-1]
    offsets = paste_offsets(len(images), canvas, size, int(opts["placement_seed"]))
    mean, std = canvas_stats(images[:n_train], canvas)
    x_block = TransformBlock(type_tfms=PasteOnCanvas(images, offsets, canvas), batch_tfms=IntToFloatTensor,
                             dl_type=BatchIndexDL)
    dls = tensor_dataloaders(request, x_block, CategoryTensorBlock(labels, fashion_mnist.CLASSES), n_train, n_test,
                             ([mean], [std]), opts["augment"])
    return Data(dls, list(fashion_mnist.CLASSES), "classification", n_in=1, input_size=(canvas, canvas),
                stats=([mean], [std]), boxes=paste_boxes(offsets, size), targets=labels, extra={"canvas": canvas})
