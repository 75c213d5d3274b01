"""fashion-best: our strongest Fashion-MNIST recipe within 15 minutes of CPU training."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="fashion-best",
    description="fmnist-fastnet, 18 one-cycle epochs, flip+shift augmentation, label smoothing: 93%+.",
    dataset="fashion-mnist",
    arch="fmnist-fastnet",
    metrics=["accuracy", "per-class-accuracy"],
    epochs=18, lr=3e-3, wd=1e-4, bs=256,
    label_smoothing=0.1,
    channels_last=True,
    data_options={"augment": "flip-shift"},
    keep_best=5,  # the 5 lowest-valid-loss checkpoints, for `fashionseg evaluate RUN --ensemble 5`
)

if __name__ == "__main__":
    main(recipe)
