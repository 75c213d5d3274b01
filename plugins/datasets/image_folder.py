"""Your own classification images (class folders, a CSV or a file-name pattern), decoded once."""
import torch

from fashionseg.plugin import (CategoryTensorBlock, Data, DataRequest, ImageTensorBlock, as_size, decoded_images,
                               folder_splits, list_images, main_console, tensor_dataloaders, used_folders, without)


def image_folder_data(request: DataRequest) -> Data:
    """Images under data_options.path: train/<class>/ (valid/, test/), a CSV of file,label, or a pattern."""
    opts = request.options
    listing = list_images(opts)
    main_console().print(f"image-folder: {used_folders(listing.root, opts)}", markup=False, highlight=False,
                         soft_wrap=True)
    size = as_size(opts["image_size"]) if opts["image_size"] else None
    splits, test_set = folder_splits(listing, request, opts["valid_pct"])
    decoded = decoded_images(listing.root, listing.files, size, opts["channels"], listing.n_train, opts["cache"],
                             bool(opts["skip_bad"]))
    splits = without(splits, listing.files, decoded.bad)
    images, classes = decoded.images, listing.classes
    index = {name: i for i, name in enumerate(classes)}
    labels = torch.tensor([index[y] for y in listing.labels])
    n_eval = len(listing.files) - listing.n_train
    dls = tensor_dataloaders(request, ImageTensorBlock(images), CategoryTensorBlock(labels, classes),
                             listing.n_train, n_eval, decoded.stats, opts["augment"], splits=splits)
    return Data(dls, classes, "classification", n_in=images.shape[1], input_size=tuple(images.shape[-2:]),
                stats=decoded.stats, targets=labels, extra={"test_set": test_set, "skipped": decoded.bad})
