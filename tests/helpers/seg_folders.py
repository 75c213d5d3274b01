"""Generated image/mask folders for segmentation tests: masks in grey PNGs, some pixels ignored."""
import numpy as np
from PIL import Image

CLASSES = {"sky": "#0000FF", "wall": "#FF0000", "door": "#00FF00"}
TABLE = np.array([[0, 0, 255], [255, 0, 0], [0, 255, 0]], dtype=np.uint8)


def masks_with_ignored(n, size=(24, 20), seed=0, ignore=255):
    """Blocky random masks over 3 classes, each with an ignored band of rows."""
    rng = np.random.default_rng(seed)
    masks = rng.integers(0, 3, (n, size[0] // 4, size[1] // 4)).repeat(4, 1).repeat(4, 2).astype(np.uint8)
    masks[:, 2:5, :] = ignore
    return masks


def write_folder(folder, masks, seed=0):
    """Images coloured by class (plus noise) and grey index masks, as 0000.jpg / 0000.png."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, mask in enumerate(masks):
        image = TABLE[np.where(mask < 3, mask, 0)].astype(np.int16) + rng.integers(-40, 40, (*mask.shape, 3))
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(folder / f"{i:04d}.png")
        Image.fromarray(mask, mode="L").save(folder / f"{i:04d}_mask.png")


def make_root(root, n_train=12, n_test=4, size=(24, 20)):
    write_folder(root / "train", masks_with_ignored(n_train, size, 0), 0)
    if n_test:
        write_folder(root / "test", masks_with_ignored(n_test, size, 1), 1)
    return root


def folder_options(root, **more):
    return {"path": str(root), "classes": CLASSES, "image_suffix": ".png", "mask_suffix": "_mask.png",
            "augment": "none", **more}
