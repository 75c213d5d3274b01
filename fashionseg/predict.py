"""Predict with a trained run from its folder alone: the model sees each image at its training
size, and the run's task interprets the output (class probabilities, a mask at the image's size)."""
from __future__ import annotations

from pathlib import Path

import torch

from .build import Trained, device, model_from_run
from .data.images import read_image


def to_input(image: torch.Tensor, summary: dict) -> torch.Tensor:
    """A uint8 image `(C, H, W)` as the normalised batch of one the model was trained on."""
    x = image.float()[None] / 255
    if summary.get("stats"):
        mean, std = (torch.tensor(s).view(1, -1, 1, 1) for s in summary["stats"])
        x = (x - mean) / std
    return x


@torch.no_grad()
def predict_image(trained: Trained, image: torch.Tensor):
    """The task's prediction for one uint8 image `(C, H, W)` of any size."""
    x = to_input(image, trained.summary).to(next(trained.model.parameters()).device)
    return trained.task.predict(trained.model, x, trained.summary)


def predict_file(run_path, image_path, on=None):
    """(trained run, the image as read, its prediction) for one image file."""
    trained = model_from_run(run_path, on=on if on is not None else device())
    image = read_image(Path(image_path), trained.summary["n_in"])
    return trained, image, predict_image(trained, image)
