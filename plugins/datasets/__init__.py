"""Plugin `datasets`: the built-in data sets and the data_options each takes (with defaults).

Factories are "module:function" strings (imported when data is built); each takes a
`fashionseg.DataRequest` and returns `fashionseg.Data`.
"""
from fashionseg.plugin import Dataset, hookimpl

HERE = __name__
# What an image/mask folder data set can be told about its folders.
FOLDER_OPTIONS = {"train": "train", "test": "test", "masks": "auto", "color_tolerance": 0,
                  "image_suffix": ".jpg", "mask_suffix": ".png", "image_size": None, "augment": "flip",
                  "ignore_index": 255, "label_map": None, "skip_bad": False}

# Your own classification images: where they are, how they are labelled, split and decoded.
IMAGE_FOLDER_OPTIONS = {"path": None, "csv": None, "pattern": None, "train": "train", "valid": "valid",
                        "test": "test", "valid_pct": 0.2, "image_size": None, "channels": "auto",
                        "cache": "auto", "augment": "none", "classes": None, "skip_bad": False}

# The same, from one CSV (no class folders, no file-name pattern), plus the decision threshold(s).
MULTI_LABEL_OPTIONS = {"path": None, "csv": None, "valid_pct": 0.2, "image_size": None, "channels": "auto",
                       "cache": "auto", "augment": "none", "threshold": 0.5}


@hookimpl
def fashionseg_datasets():
    fashion = {"path": None, "augment": "none", "download": False}
    return [
        Dataset("fashion-mnist", f"{HERE}.fashion_mnist:fashion_mnist_data", task="classification",
                description="Zalando's 70,000 28x28 clothing images in 10 classes (IDX files).", options=fashion),
        Dataset("placed-fashion-mnist", f"{HERE}.placed_fashion_mnist:placed_fashion_mnist_data",
                task="classification",
                description="Fashion-MNIST pasted at a seeded random spot on a blank canvas (default 56x56).",
                options={**fashion, "canvas": 56, "placement_seed": 0}),
        Dataset("mini-facade", f"{HERE}.mini_facade:mini_facade_data", task="segmentation",
                description="906 training and 114 test_dev facades, 256x256; others, facade, pillar, window, balcony.",
                options={"path": None, "augment": "flip", "ignore_index": 255}),
        Dataset("mask-folder", f"{HERE}.mask_folder:mask_folder_data", task="segmentation",
                description="Pairs under data_options.path (train/, test/; images/ and masks/; VOC); masks as "
                            "class indices or RGB colours.",
                options={"path": None, "classes": None, **FOLDER_OPTIONS}),
        Dataset("image-folder", f"{HERE}.image_folder:image_folder_data", task="classification",
                description="Your images: train/<class>/ (valid/, test/), a CSV of file,label, or a "
                            "file-name pattern; decoded once into a memory-mapped cache.",
                options=IMAGE_FOLDER_OPTIONS),
        Dataset("multi-label-csv", f"{HERE}.multi_label_csv:multi_label_csv_data", task="multi-label",
                description="Your images with any number of tags each: a CSV of file,labels (tags separated by "
                            "spaces or |) or of file and one 0/1 column per tag; decoded once.",
                options=MULTI_LABEL_OPTIONS),
    ]
