"""multi-label: several tags per image, from your CSV, on a CPU in minutes.

    fashionseg train multi-label --set data_options.path=/data/my-photos   # holds labels.csv: file,labels
"""
from fashionseg import Recipe, main

recipe = Recipe(
    name="multi-label",
    description="cam-fast-cnn on your images tagged by labels.csv (file,labels or one 0/1 column per tag), 64 px, "
                "flips, a 20% hold-out; one sigmoid per tag (BCE), thresholds tuned per tag on the hold-out.",
    dataset="multi-label-csv",
    arch="cam-fast-cnn",
    metrics=["accuracy-multi", "f1-multi", "multi-label-scores"],
    epochs=10, lr=3e-3, wd=1e-4, bs=32,
    data_options={"csv": "labels.csv", "image_size": 64, "augment": "flip", "threshold": "tune"},
)

if __name__ == "__main__":
    main(recipe)
