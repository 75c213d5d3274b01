"""Segment a photo of any size with a trained run: the model sees it at its training size and
its score map is resized back to the photo's size."""
from __future__ import annotations

from pathlib import Path

import torch

from .data.colors import colorize, default_colors
from .data.mask_folder import read_image
from .errors import FashionsegError
from .registry import create_model
from .resize import RunAtSize
from .runfolder import RunFolder


def load_segmenter(run_path) -> tuple[torch.nn.Module, dict]:
    """The trained model of a segmentation run, in eval mode, and its data summary (data.json)."""
    run = RunFolder.open(run_path)
    config = run.read_json("config.json")
    if not (run.path / "data.json").is_file():
        raise FashionsegError(f"{run.path} has no data.json; it was trained before predict existed, train it again")
    info = run.read_json("data.json")
    if info["task"] != "segmentation":
        raise FashionsegError(f"{run.path} is a {info['task']} run; predict needs a segmentation run")
    model = create_model(config["arch"], len(info["classes"]), info["n_in"], **config.get("arch_options", {}))
    run.load_weights(model)
    RunAtSize(model, info["input_size"])
    return model.eval(), info


@torch.no_grad()
def predict_mask(model, info: dict, image: torch.Tensor, device=None) -> torch.Tensor:
    """Class indices `(H, W)` for a uint8 image `(C, H, W)` of any size."""
    mean, std = (torch.tensor(s).view(-1, 1, 1) for s in info["stats"])
    x = ((image.float() / 255 - mean) / std)[None]
    model = model.to(device or "cpu")
    return model(x.to(device or "cpu"))[0].argmax(0).cpu()


def overlay(image: torch.Tensor, mask: torch.Tensor, colors, blend: float | None) -> torch.Tensor:
    """The mask in class colours `(H, W, 3)`, blended over the photo with weight `blend` when given."""
    painted = colorize(mask, colors)
    if blend is None:
        return painted
    photo = image.expand(3, -1, -1).permute(1, 2, 0).float()
    return (photo * (1 - blend) + painted.float() * blend).round().to(torch.uint8)


def segment_file(run_path, image_path, blend: float | None = None, device=None):
    """(coloured or blended prediction `(H, W, 3)`, class indices `(H, W)`, data summary) for one photo."""
    if blend is not None and not 0 <= blend <= 1:
        raise FashionsegError(f"--blend takes a weight between 0 and 1, not {blend}")
    model, info = load_segmenter(run_path)
    image = read_image(Path(image_path), info["n_in"])
    mask = predict_mask(model, info, image, device)
    colors = info.get("colors") or default_colors(len(info["classes"]))
    return overlay(image, mask, colors, blend), mask, info
