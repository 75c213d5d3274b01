"""Your own images with several tags each, listed in a CSV, decoded once (the multi-label task's data)."""
from fashionseg.plugin import (
    Data,
    DataRequest,
    ImageTensorBlock,
    MultiLabelTensorBlock,
    as_size,
    decoded_images,
    folder_splits,
    list_tagged,
    tensor_dataloaders,
    thresholds,
)


def multi_label_csv_data(request: DataRequest) -> Data:
    """Images under data_options.path tagged by data_options.csv (file,labels or one 0/1 column per tag)."""
    opts = request.options
    tagged = list_tagged(opts)
    listing = tagged.listing
    decision = thresholds(opts["threshold"], tagged.tags)  # checked before anything is decoded
    size = as_size(opts["image_size"]) if opts["image_size"] else None
    splits, test_set = folder_splits(listing, request, opts["valid_pct"])
    decoded = decoded_images(listing.root, listing.files, size, opts["channels"], listing.n_train, opts["cache"])
    images = decoded.images
    dls = tensor_dataloaders(request, ImageTensorBlock(images), MultiLabelTensorBlock(tagged.targets),
                             listing.n_train, len(listing.files) - listing.n_train, decoded.stats, opts["augment"],
                             splits=splits)
    return Data(dls, tagged.tags, "multi-label", n_in=images.shape[1], input_size=tuple(images.shape[-2:]),
                stats=decoded.stats, extra={"test_set": test_set, "thresholds": decision})
