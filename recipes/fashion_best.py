"""fashion-best: our strongest Fashion-MNIST recipe within 15 minutes of CPU training."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="fashion-best",
    description="fmnist-fastnet with two convs per stage, 15 one-cycle epochs in bf16, flip+shift augmentation, "
                "label smoothing, weight EMA: 94% on 2 CPU cores.",
    dataset="fashion-mnist",
    arch="fmnist-fastnet",
    arch_options={"convs": 2},  # 1.7x the single-conv epoch; 93.96% vs 93.49% in the same 14-15 minutes
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
