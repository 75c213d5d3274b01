"""Classifiers from timm: the built-in `resnet101` and any timm model as `timm:<name>`, from scratch
unless the recipe's `weights` names a file, a model folder, `hf-hub:ORG/NAME` or `pretrained` (timm's own
published weights, from the Hugging Face or torch hub cache, downloaded there when asked for and absent)."""
from functools import partial
from pathlib import Path

import timm
from timm.models import get_pretrained_cfg

from fashionseg.plugin import Architecture, FashionsegError, hub_file, torch_hub_file, torch_hub_path, unknown_name


def resnet101(n_classes=10, n_in=1):
    """timm ResNet-101 with an n_in-channel stem, from scratch (a weights file: the recipe's `weights`)."""
    return timm.create_model("resnet101", pretrained=False, num_classes=n_classes, in_chans=n_in)


def timm_model(n_classes, n_in, *, model_name, **options):
    """timm's `model_name` with the data's classes and input channels; `options` go to timm.create_model."""
    return timm.create_model(model_name, pretrained=False, num_classes=n_classes, in_chans=n_in, **options)


def architecture(name: str) -> Architecture:
    """`timm:<name>` for any timm model (a `.tag` picks its pretrained weights); an unknown name lists close ones."""
    if not timm.is_model(name):
        raise unknown_name("architecture", f"timm:{name}", [f"timm:{m}" for m in timm.list_models()],
                           "`fashionseg list architectures 'timm:*'`")
    cfg = get_pretrained_cfg(name)
    return Architecture(f"timm:{name}", partial(timm_model, model_name=name), task="classification",
                        description=f"timm {name}, sized for the data; from scratch unless `weights` is set "
                                    f"(published weights: {published(cfg)})",
                        feature_layer=cfg.classifier if cfg else None, pretrained=partial(published_weights, name),
                        pretrained_stats=partial(published_stats, name))


def published_stats(name: str):
    """The mean and std timm's published weights for `name` were trained with (its `pretrained_cfg`)."""
    cfg = get_pretrained_cfg(name)
    return (list(cfg.mean), list(cfg.std)) if cfg and cfg.mean and cfg.std else None


def published(cfg) -> str:
    """Where timm publishes the model's weights (what `weights: pretrained` looks for in the caches)."""
    return (cfg.hf_hub_id or cfg.url or "none") if cfg else "none"


def names(pattern: str) -> list[str]:
    """timm's model names matching a wildcard, in timm's natural order."""
    return timm.list_models(pattern or "*")


def published_weights(name: str) -> Path:
    """timm's published weights for `name`, as timm's own loader finds them: from the Hugging Face hub
    (`pretrained_cfg.hf_hub_id`, through huggingface_hub and its cache), else torch hub's download of
    `pretrained_cfg.url` into `$TORCH_HOME/hub/checkpoints`; downloaded only when not cached."""
    cfg = get_pretrained_cfg(name)
    wanted = f"pretrained weights for timm:{name}"
    if cfg and cfg.hf_hub_id:
        files = (cfg.hf_hub_filename,) if cfg.hf_hub_filename else ("model.safetensors", "pytorch_model.bin")
        try:
            return hub_file(cfg.hf_hub_id, files, wanted)
        except FashionsegError:
            if not (cfg.url and torch_hub_path(cfg.url).is_file()):  # torch hub's copy, if there is one, will do
                raise
    if cfg and cfg.url:
        return torch_hub_file(cfg.url, wanted)
    raise FashionsegError(f"timm publishes no {wanted}; pass --weights FILE, a model folder or hf-hub:ORG/NAME")
