"""Classifiers from timm: the built-in `resnet101` and any timm model as `timm:<name>`, from scratch
unless the recipe's `weights` names a local file or `pretrained` (timm's own weights, from the local
Hugging Face or torch hub cache: nothing is ever downloaded)."""
import os
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

import timm
import torch
from timm.models import get_pretrained_cfg

from fashionseg.plugin import Architecture, FashionsegError, unknown_name


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
                        feature_layer=cfg.classifier if cfg else None, pretrained=partial(cached_weights, name))


def published(cfg) -> str:
    """Where timm publishes the model's weights (what `weights: pretrained` looks for in the caches)."""
    return (cfg.hf_hub_id or cfg.url or "none") if cfg else "none"


def names(pattern: str) -> list[str]:
    """timm's model names matching a wildcard, in timm's natural order."""
    return timm.list_models(pattern or "*")


def hf_cache() -> Path:
    """The Hugging Face hub cache as huggingface_hub resolves it, read from the environment now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "huggingface"
    return Path(home).expanduser() / "hub"


def cached_weights(name: str) -> Path:
    """The file of timm's published weights for `name` where timm would have cached it (Hugging Face
    hub first, then torch hub's checkpoints), without any download; else one error naming where it looked."""
    from huggingface_hub import try_to_load_from_cache

    cfg, looked = get_pretrained_cfg(name), []
    if cfg and cfg.hf_hub_id:
        for filename in filter(None, (cfg.hf_hub_filename, "model.safetensors", "pytorch_model.bin")):
            found = try_to_load_from_cache(cfg.hf_hub_id, filename, cache_dir=hf_cache())
            if isinstance(found, str):
                return Path(found)
        looked.append(str(hf_cache() / f"models--{cfg.hf_hub_id.replace('/', '--')}"))
    if cfg and cfg.url:
        path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(cfg.url).path)
        if path.is_file():
            return path
        looked.append(str(path))
    where = f"looked in {' and '.join(looked)}" if looked else "timm publishes none for it"
    raise FashionsegError(f"no pretrained weights for timm model {name!r} in the local caches ({where}); nothing is "
                          f"downloaded here: fetch them once where there is a network (timm.create_model({name!r}, "
                          "pretrained=True)) and copy the cache (HF_HOME, TORCH_HOME), or pass --weights FILE")
