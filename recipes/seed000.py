"""seed000: the report's CNN with its original settings (torch.optim.Adam at a constant rate, 20 epochs)."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="seed000",
    description="Two conv blocks and three linear layers; reported 91.52% test accuracy after 20 epochs.",
    dataset="fashion-mnist",
    arch="seed000-cnn",
    metrics=["accuracy", "per-class-accuracy"],
    epochs=20, lr=1e-3, wd=1e-4, bs=128,
    schedule="constant", opt="torch-adam",
)

if __name__ == "__main__":
    main(recipe)
