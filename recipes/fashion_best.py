"""fashion-best: our strongest Fashion-MNIST recipe within 15 minutes of CPU training."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="fashion-best",
    description="fmnist-fastnet with two convs per stage, 15 one-cycle epochs in bf16, flip+shift augmentation, "
                "label smoothing, weight EMA: 94.25% in 13 minutes on 2 CPU cores.",
    dataset="fashion-mnist",
    arch="fmnist-fastnet",
    arch_options={"convs": 2, "dropout": 0.1},  # two convs per stage: 1.7x the single-conv epoch, +0.5 points in
    # the same minutes; dropout 0.1 instead of 0.3 (15 epochs do not overfit): 94.25% against 93.96%
    metrics=["accuracy", "per-class-accuracy"],
    epochs=15, lr=3e-3, wd=1e-4, bs=256,
    label_smoothing=0.1,
    ema=0.999,  # the weights' moving average validates and is kept
    precision="bf16",  # fast on CPUs with native bf16 (avx512_bf16/AMX); elsewhere --precision 32 and fewer epochs
    channels_last=True,
    data_options={"augment": "flip-shift"},
    keep_best=5,  # the 5 lowest-valid-loss checkpoints, for `fashionseg evaluate RUN --ensemble 5`
)

if __name__ == "__main__":
    main(recipe)
