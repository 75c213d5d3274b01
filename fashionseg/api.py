"""The notebook API: `fashionseg.load_run(path)` for a trained run's predictions and Learner, and
`fashionseg.build_learner(recipe, **overrides)` for a fastai Learner straight from a recipe."""
from __future__ import annotations

from pathlib import Path

import fastai.vision.learner  # noqa: F401  (registers show_results for image batches: a grid, not a figure each)
import torch
from fastai.learner import Learner

from fashionseg.errors import FashionsegError
from fashionseg.infer.trained import Trained, model_from_run
from fashionseg.recipe.schema import Recipe


class Run:
    """A trained run brought back from its folder alone; its data is needed only by `learner()`."""

    def __init__(self, trained: Trained):
        self.trained = trained

    @property
    def model(self) -> torch.nn.Module:
        return self.trained.model

    @property
    def classes(self) -> list[str]:
        return list(self.trained.summary["classes"])

    @property
    def config(self) -> Recipe:
        return self.trained.recipe

    @property
    def path(self) -> Path:
        return self.trained.run.path

    def predict(self, images, bs: int = 64, tta: bool = False, tile: int = 0, overlap: float = 0.25) -> list:
        """Predictions for a path, PIL image, array or uint8 tensor `(C, H, W)`, a list of them, or a batch
        `(B, C, H, W)`: uint8 as pixels, float as normalised input like the run's DataLoaders give.
        One per image: classification `(label, index, probs)`, segmentation a mask of class indices.
        `tta`: flip test-time augmentation; `tile`: segmentation by a sliding window at each image's own size."""
        from fashionseg.data.images import as_image
        from fashionseg.infer.predict import predict_images, predict_inputs

        if torch.is_tensor(images) and images.ndim == 4:
            if images.is_floating_point():
                return [p for chunk in images.split(bs) for p in predict_inputs(self.trained, chunk, None, tta, tile,
                                                                                overlap)]
            images = list(images)
        items = images if isinstance(images, (list, tuple)) else [images]
        n_in = self.trained.summary["n_in"]
        return [p for start in range(0, len(items), bs)
                for p in predict_images(self.trained, [as_image(i, n_in) for i in items[start:start + bs]], tta,
                                        tile, overlap)]

    def learner(self) -> Learner:
        """A fastai Learner with the trained model on the run's data (`show_results`, `get_preds`, `lr_find`,
        `predict`); the data must be where the run found it."""
        from fashionseg.build.learner import build_learner as build
        from fashionseg.callbacks.resize import ProgressiveResize

        try:
            learn = build(self.config).learn
        except FashionsegError as exc:
            raise FashionsegError(f"run.learner() needs the data {self.path} was trained on, and: {exc}") from None
        # the trained model runs at its final size; resizing again would stack a second set of hooks
        learn.remove_cbs([cb for cb in learn.cbs if isinstance(cb, ProgressiveResize)])
        learn.model = self.model
        return learn


def load_run(path: str | Path, on=None) -> Run:
    """A trained run from its folder (config.json, data.json, model.pth); CUDA when present unless `on`."""
    return Run(model_from_run(path, on=on))


def build_learner(recipe: Recipe | str, **overrides) -> Learner:
    """A fastai Learner for a recipe (or a recipe's name), settings overridden as on the command line
    (`epochs=1`, `bs=64`, `data_options.augment="flip"`); no run folder is made."""
    from fashionseg.build.learner import build_learner as build
    from fashionseg.registry.recipes import find_recipe

    recipe = find_recipe(recipe) if isinstance(recipe, str) else recipe
    return build(recipe.override(**overrides)).learn
