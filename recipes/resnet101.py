"""resnet101: timm's ResNet-101 from scratch on Fashion-MNIST (a GPU recipe; slow on a CPU)."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="resnet101",
    description="timm ResNet-101, 1-channel stem, trained from scratch; pass --weights FILE for local weights.",
    dataset="fashion-mnist",
    arch="resnet101",
    metrics=["accuracy", "per-class-accuracy"],
    epochs=5, lr=1e-3, wd=1e-4, bs=128,
    channels_last=True,
    data_options={"augment": "flip"},
)

if __name__ == "__main__":
    main(recipe)
