"""facade-unet: smp U-Net with a ResNet-34 encoder, the facade report's settings."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="facade-unet",
    description="U-Net (ResNet-34 encoder, from scratch), lr 1e-3, wd 1e-4, 10 epochs as reported "
                "(reported mean AP 0.552); pairs 250-349 validate, test_dev tests.",
    dataset="mini-facade",
    arch="unet",
    metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"],
    epochs=10, lr=1e-3, wd=1e-4, bs=8,
    valid="250-350",
    data_options={"augment": "flip"},
)

if __name__ == "__main__":
    main(recipe)
