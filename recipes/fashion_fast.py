"""fashion-fast: the default recipe; beats the best reported accuracy (91.52%) in under a minute on a CPU."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="fashion-fast",
    description="fmnist-fastnet (24-48-96 channels, no dropout), one-cycle, bf16, channels-last: 91.5%+ in 2 epochs.",
    dataset="fashion-mnist",
    arch="fmnist-fastnet",
    arch_options={"widths": [24, 48, 96], "dropout": 0.0},  # 2 epochs: dropout only slows the fit
    metrics=["accuracy", "per-class-accuracy"],
    epochs=2, lr=3e-3, wd=1e-4, bs=256,
    precision="bf16",  # autocast on the CPU too: 1.5-1.7x the training throughput of fp32 here
    channels_last=True,  # no augmentation (and so no flip TTA: Fashion-MNIST's shoes all face one way)
)

if __name__ == "__main__":
    main(recipe)
