"""Fashion-MNIST as a classification data set over uint8 tensors."""
from fashionseg.plugin import (CategoryTensorBlock, Data, DataRequest, ImageTensorBlock, fashion_mnist,
                               tensor_dataloaders)


def fashion_mnist_data(request: DataRequest) -> Data:
    """Zalando's 70,000 28x28 clothing images in 10 classes (IDX files)."""
    images, labels, n_train, n_test = fashion_mnist.tensors(request.options)
    stats = ([fashion_mnist.MEAN], [fashion_mnist.STD])
    dls = tensor_dataloaders(request, ImageTensorBlock(images), CategoryTensorBlock(labels, fashion_mnist.CLASSES),
                             n_train, n_test, stats, request.options["augment"], labels=labels[:n_train].tolist())
    return Data(dls, list(fashion_mnist.CLASSES), "classification", n_in=1, input_size=tuple(images.shape[-2:]),
                stats=stats, targets=labels)
