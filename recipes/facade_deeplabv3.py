"""facade-deeplabv3: DeepLabv3 on a dilated ResNet-101, from scratch."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="facade-deeplabv3",
    description="smp DeepLabv3 with a ResNet-101 encoder (output stride 8), from scratch; "
                "a GPU recipe: several hundred GMAC per 256x256 image.",
    dataset="mini-facade",
    arch="deeplabv3-resnet101",
    metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"],
    epochs=15, lr=1e-3, wd=1e-4, bs=8,
    valid="250-350",
    data_options={"augment": "light"},
)

if __name__ == "__main__":
    main(recipe)
