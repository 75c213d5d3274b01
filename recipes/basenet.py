"""basenet: the report's LeNet-like baseline, validated on a 10% hold-out, tested at the end."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="basenet",
    description="Two conv-ReLU-pool blocks and a 12-unit hidden layer; reported 63.5% validation accuracy.",
    dataset="fashion-mnist",
    arch="basenet",
    metrics=["accuracy", "per-class-accuracy"],
    epochs=10, lr=1e-3, wd=1e-4, bs=128,
    valid="0.1",
)

if __name__ == "__main__":
    main(recipe)
