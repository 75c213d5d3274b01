"""A trained run as a Hugging Face-style model folder: model.safetensors, config.json (architecture, classes,
colours, input size, normalisation, task; timm's own format for timm models), preprocessing.json, a model card
README.md and the figures. `load_run` reads such a folder, here or on the hub, like the run folder it came from."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from fashionseg.errors import FashionsegError
from fashionseg.infer.export import preprocessing, resize_to
from fashionseg.infer.model_card import model_card
from fashionseg.infer.trained import META, TrainedRun, load_run
from fashionseg.models.weights import safetensors_bytes
from fashionseg.report.figures import DATA_FREE_FIGURES
from fashionseg.utils.files import atomic_write
from fashionseg.version import __version__

PREPROCESSING = "preprocessing.json"


def export_model_folder(path, out, with_examples: bool = False) -> tuple[Path, list[str]]:
    """Write run `path` as a model folder `out` (new or empty); figures that show data items only `with_examples`.
    Returns the folder and the figures it holds."""
    out = Path(out)
    check_out_folder(out)
    trained = load_run(path, on=torch.device("cpu"))
    write_model(trained, out)
    figures = copy_figures(trained, out, with_examples)
    atomic_write(out / PREPROCESSING, json.dumps(preprocessing(trained.summary, model_resize(trained)), indent=2))
    atomic_write(out / "README.md", model_card(trained, figures, is_timm(trained.model)))
    return out, [p for _, p in figures]


def check_out_folder(out: Path):
    """`--out` is a new or empty folder, checked before anything is written."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = "a file" if not out.is_dir() else "a folder that is not empty"
        raise FashionsegError(f"--out {out} is {what}; name a new or empty folder for the model")


def is_timm(model: torch.nn.Module) -> bool:
    """A timm model (it carries timm's `pretrained_cfg`): its folder is the one timm's `push_to_hf_hub` writes."""
    return isinstance(getattr(model, "pretrained_cfg", None), dict) and hasattr(model, "num_classes")


def model_resize(trained: TrainedRun) -> dict | None:
    """The size a caller must resize to before the bare model (no fashionseg resizing around it)."""
    size = trained.summary.get("input_size") or trained.summary.get("image_size")
    return resize_to(size) if size else None


def config(trained: TrainedRun) -> dict:
    """What config.json says: enough to feed the model and read its output, and (under "fashionseg") to rebuild it."""
    s = trained.summary
    size = s.get("input_size") or s.get("image_size")
    mean, std = s["stats"] or (None, None)
    return {"architecture": trained.recipe.arch, "task": s["task"], "num_classes": len(s["classes"]),
            "classes": s["classes"], "colors": s.get("colors"), "in_chans": s["n_in"],
            "input_size": [s["n_in"], *size] if size else None, "mean": mean, "std": std,
            META: {"version": __version__, "recipe": trained.recipe.to_dict(), "data": s}}


def write_model(trained: TrainedRun, out: Path):
    """model.safetensors and config.json; for a timm model through timm's own `save_for_hf`, so plain timm loads it."""
    meta = config(trained)
    if not is_timm(trained.model):
        atomic_write(out / "model.safetensors", safetensors_bytes(trained.model))
        atomic_write(out / "config.json", json.dumps(meta, indent=2) + "\n")
        return
    from timm.models import save_for_hf

    extra = {k: v for k, v in meta.items() if k not in ("architecture", "num_classes")}
    data = {"input_size": tuple(meta["input_size"]), "mean": tuple(meta["mean"]), "std": tuple(meta["std"]),
            "interpolation": "bilinear", "crop_pct": 1.0} if meta["input_size"] and meta["mean"] else None
    save_for_hf(trained.model, out, model_config={**extra, "label_names": meta["classes"]},
                model_args={"in_chans": meta["in_chans"]}, safe_serialization=True, data_config=data)


def copy_figures(trained: TrainedRun, out: Path, with_examples: bool) -> list[tuple[str, str]]:
    """The run's figures `(title, figures/<name>.png)` copied into the folder: those drawn from metrics or
    weights always, those showing data items only `with_examples`."""
    shown = trained.run.read_json("metrics.json").get("figures", {}) if (trained.path / "metrics.json").is_file() else {}
    free = DATA_FREE_FIGURES | trained.task.data_free_figures
    kept = []
    for title, rel in shown.items():
        source = trained.path / rel
        if source.is_file() and (with_examples or source.stem in free):
            atomic_write(out / rel, source.read_bytes())
            kept.append((title, rel))
    return kept
