"""facade-unet-classic: the original U-Net layout (double 3x3 convs, 4 down, 4 up)."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="facade-unet-classic",
    description="Original U-Net, base width 64, from scratch; U-Net settings of the report "
                "(lr 1e-3, wd 1e-4, 10 epochs).",
    dataset="mini-facade",
    arch="unet-classic",
    arch_options={"width": 64},
    metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"],
    epochs=10, lr=1e-3, wd=1e-4, bs=8,
    valid="250-350",
    data_options={"augment": "flip"},
)

if __name__ == "__main__":
    main(recipe)
