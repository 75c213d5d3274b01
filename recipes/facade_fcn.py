"""facade-fcn: the report's six-layer conv network with batch norm and bilinear upsampling."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="facade-fcn",
    description="Six 5x5 conv layers, batch 16 as reported (mean AP 0.643); about 130 GMAC per "
                "256x256 image, so a GPU recipe.",
    dataset="mini-facade",
    arch="facade-fcn",
    metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"],
    epochs=20, lr=1e-3, wd=1e-4, bs=16,
    valid="250-350",
    data_options={"augment": "flip"},
)

if __name__ == "__main__":
    main(recipe)
