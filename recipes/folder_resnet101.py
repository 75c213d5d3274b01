"""folder-resnet101: seed 004's classification experiment on your own image folder (a GPU recipe).

    fashionseg train folder-resnet101 --set data_options.path=/data/my-images
"""
from fashionseg import Recipe, main

recipe = Recipe(
    name="folder-resnet101",
    description="timm ResNet-101 on your image folder (train/<class>/, valid/ or a 20% hold-out); the 5 "
                "lowest-valid-loss epochs kept and averaged against the best single one; t-SNE of the features.",
    dataset="image-folder",
    arch="timm:resnet101",
    metrics=["accuracy", "per-class-accuracy"],
    epochs=20, lr=1e-3, wd=1e-4, bs=32,
    channels_last=True,
    data_options={"image_size": 224, "augment": "flip"},
    keep_best=5,  # the 5 best-loss epochs ...
    ensemble=5,   # ... tested one by one and averaged, in the report
    tsne=2000,    # penultimate-layer features of up to 2000 test images
)

if __name__ == "__main__":
    main(recipe)
