"""facade-fast: the CPU recipe for mean AP >= 0.70 (pillar >= 0.30) on test_dev within 30 minutes."""
from fashionseg import Recipe, main

recipe = Recipe(
    name="facade-fast",
    description="U-Net, ResNet-18 encoder and a light decoder, from scratch; 12 epochs at 128 px then 4 at "
                "192 px (progressive resizing), pillar x5 and balcony x2 in the loss, one-cycle at 3e-3.",
    dataset="mini-facade",
    arch="unet",
    arch_options={"encoder": "resnet18", "decoder_channels": [128, 64, 32, 16, 8]},
    metrics=["pixel-accuracy", "per-class-ap", "per-class-iou"],
    epochs=16, lr=3e-3, wd=1e-4, bs=16,
    valid="250-350",
    sizes=[[0, 128], [12, 192]],
    channels_last=True,  # 1.3x the training throughput of the default layout on this CPU
    loss_options={"weight": [1, 1, 5, 1, 2]},
    data_options={"augment": "light"},
)

if __name__ == "__main__":
    main(recipe)
