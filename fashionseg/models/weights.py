"""Weights in and out: `state_dict`s only, loaded with `weights_only=True` (or safetensors); every way a
weights file can be wrong (truncated, not torch's, refused, another architecture) is one clear error.
Pretrained weights load tensor by tensor with a report: loaded, adapted, skipped and why."""
from __future__ import annotations

import pickle
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from fashionseg.errors import FashionsegError

WEIGHTS_REPORT = "weights_load.json"  # the load report in a run folder
LAYOUT_KEYS = ("state_dict", "model")  # {"state_dict": ...} (Lightning, many trainers), {"model": ...} (fastai, timm)


class Unreadable(Exception):
    """`torch_load` could not read a file: `refused` names what weights_only refused, else `reason` says why."""

    def __init__(self, reason: str, refused: str | None = None):
        super().__init__(reason)
        self.reason, self.refused = reason, refused


def torch_load(path: Path):
    """torch.load on the CPU with weights_only=True (tensors and plain containers: no code runs); `Unreadable` if not."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = refusal(str(exc))
        raise Unreadable("it is no pickle torch can read", refused) from None
    except Exception as exc:  # torch raises RuntimeError, EOFError, KeyError... for a truncated or foreign file
        raise Unreadable(first_sentence(exc)) from None


def load_or_fail(path: Path, remedy: str):
    """`torch_load`, its failure one line naming the file; `remedy` ends the line for an unreadable file."""
    try:
        return torch_load(path)
    except Unreadable as exc:
        if exc.refused is None:
            raise FashionsegError(f"{path} is truncated or not a torch weights file ({exc.reason}); {remedy}") from None
        raise FashionsegError(f"{path} was refused: it holds {exc.refused}, and weights are loaded only as tensors "
                              "and plain containers, so no code in a file ever runs; save the model's state_dict() "
                              "with torch.save and load that") from None


def read_state_dict(path: Path, remedy: str) -> dict:
    """The state_dict in a weights file (fastai's `{"model": ..., "opt": ...}` too, or safetensors); `remedy`
    ends the error for a file that cannot be read."""
    state = read_safetensors(path, remedy) if path.suffix == ".safetensors" else load_or_fail(path, remedy)
    if isinstance(state, dict) and isinstance(state.get("model"), dict) and "opt" in state:
        state = state["model"]
    if not is_state_dict(state):
        raise FashionsegError(f"{path} holds a {type(state).__name__}, not a state_dict of tensors; {remedy}")
    return state


def is_state_dict(state) -> bool:
    return isinstance(state, dict) and bool(state) and all(isinstance(v, torch.Tensor) for v in state.values())


def refusal(message: str) -> str | None:
    """What `weights_only` refused, from torch's message; None when the data is no pickle at all."""
    if "Weights only load failed" not in message or "Unsupported operand" in message:
        return None
    found = re.search(r"Unsupported global: GLOBAL (\S+)", message)
    if found:
        return f"an object of type {found.group(1)}"
    found = re.search(r"WeightsUnpickler error:\s*([^.\n]+)", message)
    return f"something other than tensors ({found.group(1).strip()})" if found else "something other than tensors"


def first_sentence(exc: Exception) -> str:
    text = str(exc).strip().split("\n")[0].split(". ")[0].rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def mismatch(own: dict, state: dict) -> str:
    """How `state` differs from a model's own state_dict `own` (missing, unexpected, other shapes); '' if it fits."""
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shaped = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    found = []
    if missing:
        found.append(f"{len(missing)} tensor(s) missing, e.g. {missing[0]}")
    if unexpected:
        found.append(f"{len(unexpected)} unexpected, e.g. {unexpected[0]}")
    if shaped:
        k = shaped[0]
        found.append(f"{len(shaped)} of another shape, e.g. {k} is {list(state[k].shape)} in the file but "
                     f"{list(own[k].shape)} in the model")
    return "; ".join(found)


# ---------------------------------------------------------------- pretrained weights
PRETRAINED_REMEDY = ("pass a state_dict saved with torch.save(model.state_dict(), path) or a .safetensors file; "
                     "checkpoints holding the state_dict under 'state_dict' or 'model' work too")


def pretrained_tensors(path: Path) -> dict:
    """The tensors of a checkpoint in any common layout: a plain state_dict, `{"state_dict": ...}`,
    `{"model": ...}`, safetensors; a DDP `module.` prefix is removed."""
    if not path.is_file():
        raise FashionsegError(f"weights file {path} does not exist; pretrained weights are never downloaded here")
    state = read_safetensors(path) if path.suffix == ".safetensors" else load_or_fail(path, PRETRAINED_REMEDY)
    nested = [state[k] for k in LAYOUT_KEYS if isinstance(state, dict) and is_state_dict(state.get(k))]
    state = state if is_state_dict(state) or not nested else nested[0]
    if not is_state_dict(state):
        raise FashionsegError(f"{path} holds a {type(state).__name__}, not a state_dict of tensors; {PRETRAINED_REMEDY}")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def read_safetensors(path: Path, remedy: str = PRETRAINED_REMEDY) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise FashionsegError(f"{path} is truncated or not a safetensors file ({first_sentence(exc)}); "
                              f"{remedy}") from None


def safetensors_bytes(model: torch.nn.Module) -> bytes:
    """The model's state_dict as safetensors (tensors copied: the format refuses shared or strided ones)."""
    from safetensors.torch import save

    return save({k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()})


@dataclass
class WeightsReport:
    """What loading pretrained weights did to each tensor of the file and the model."""

    source: str
    loaded: list[str] = field(default_factory=list)
    adapted: list[dict] = field(default_factory=list)  # {"tensor", "from", "to", "how"}
    skipped: list[dict] = field(default_factory=list)  # {"tensor", "reason"}

    def summary(self) -> str:
        return (f"weights {self.source}: {len(self.loaded)} tensors loaded, {len(self.adapted)} adapted, "
                f"{len(self.skipped)} skipped")

    def lines(self) -> list[str]:
        """The summary, then one line per adapted or skipped tensor: nothing is skipped silently."""
        return [self.summary(),
                *(f"  adapted {a['tensor']}: {a['from']} -> {a['to']} ({a['how']})" for a in self.adapted),
                *(f"  skipped {s['tensor']}: {s['reason']}" for s in self.skipped)]

    def show(self, console, prefix: str = ""):
        """The lines on a rich console, verbatim (tensor names such as `[0]` are no markup)."""
        console.print(prefix + "\n".join(self.lines()), markup=False, highlight=False, soft_wrap=True)

    def to_dict(self) -> dict:
        return {**asdict(self), "counts": {k: len(getattr(self, k)) for k in ("loaded", "adapted", "skipped")}}


def load_pretrained(model: torch.nn.Module, path, head: str | None = None,
                    classes: list[str] | None = None, rename=None) -> WeightsReport:
    """Load the file's tensors into `model` where they fit: the first convolution adapted to the model's
    input channels (timm's `adapt_input_conv`), tensors of another shape (a classifier `head` for other
    classes) skipped and kept as initialised; each recorded in the report. When the weights say which classes
    they were trained for (a fashionseg run or model folder) and these differ from `classes`, the output layer
    is skipped too, even where its shape fits: its rows would score classes the data does not have. `rename`
    maps a file's tensor name to the model's (e.g. timm's `stem.0.weight` to a features-only `stem_0.weight`)."""
    path = Path(path).expanduser()
    state, own = pretrained_tensors(path), model.state_dict()
    if rename is not None:
        state = {rename(key): value for key, value in state.items()}
    report, fitting = WeightsReport(str(path)), {}
    stem = first_conv_weight(model)
    theirs = weights_classes(path)
    other_classes = output_tensors(own, head, len(classes)) if classes and theirs and theirs != list(classes) else {}
    for key, value in state.items():
        if key not in own:
            report.skipped.append({"tensor": key, "reason": "in the file but not in the model"})
        elif key in other_classes:
            report.skipped.append({"tensor": key, "reason": f"output layer for other classes: the weights were "
                                                            f"trained for {', '.join(theirs)}; the data's classes are "
                                                            f"{', '.join(classes)}; kept as initialised"})
        elif own[key].shape == value.shape:
            fitting[key] = value
            report.loaded.append(key)
        elif key == stem and value.dim() == 4 and value.shape[0] == own[key].shape[0] and value.shape[2:] == own[key].shape[2:]:
            fitting[key] = adapt_stem(value, own[key].shape[1])
            report.adapted.append({"tensor": key, "from": list(value.shape), "to": list(own[key].shape),
                                   "how": f"input channels {value.shape[1]} -> {own[key].shape[1]} (timm adapt_input_conv)"})
        else:
            role = "classifier for another number of classes" if head and key.startswith(head + ".") else "shape mismatch"
            report.skipped.append({"tensor": key, "reason": f"{role}: {list(value.shape)} in the file, "
                                                            f"{list(own[key].shape)} in the model; kept as initialised"})
    report.skipped += [{"tensor": k, "reason": "in the model but not in the file; kept as initialised"}
                       for k in own if k not in state]
    if not fitting:
        raise FashionsegError(f"{path} shares no tensors with this model ({mismatch(own, state)}); is it the right "
                              "architecture?")
    model.load_state_dict(fitting, strict=False)
    return report


def weights_classes(path: Path) -> list[str] | None:
    """The classes a weights file was trained for, when the folder holding it says: a fashionseg run folder's
    data.json, or a model folder's config.json (`classes`, or `label_names` as timm writes it); None otherwise."""
    import json

    for name, keys in (("data.json", ("classes",)), ("config.json", ("classes", "label_names"))):
        try:
            found = json.loads((path.parent / name).read_text())
        except (OSError, ValueError):
            continue
        names = next((found[k] for k in keys if isinstance(found, dict) and isinstance(found.get(k), list)), None)
        if names:
            return [str(n) for n in names]
    return None


def output_tensors(own: dict, head: str | None, n_classes: int) -> set[str]:
    """The model's output layer: the `head` module's tensors, else (no such module, e.g. `-1` of a Sequential)
    those of the last module in the state dict when its leading dimension is the number of classes (a
    classifier's or a segmentation head's last layer)."""
    named = {k for k in own if head and k.startswith(head + ".")}
    if named:
        return named
    last = next(reversed(own), None)
    if last is None or own[last].dim() == 0 or own[last].shape[0] != n_classes:
        return set()
    prefix = last.rsplit(".", 1)[0] + "."
    return {k for k in own if k.startswith(prefix)}


def first_conv_weight(model: torch.nn.Module) -> str | None:
    """The state_dict key of the model's first convolution's weight: the input stem."""
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            return f"{name}.weight"
    return None


def adapt_stem(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """timm's rule: 3 -> 1 sums the RGB filters, other counts repeat them, both rescaled."""
    from timm.models import adapt_input_conv

    return adapt_input_conv(in_chans, weight)


def weights_sections(run) -> list:
    """The report.md table of a run's pretrained-weights load (from its weights_load.json; a resumed run
    keeps the report of its first start); none when it started from scratch."""
    from fashionseg.registry.task import Section

    if not (run.path / WEIGHTS_REPORT).is_file():
        return []
    report = run.read_json(WEIGHTS_REPORT)
    rows = [["loaded", f"{len(report['loaded'])} tensors", report["source"]],
            *(["adapted", a["tensor"], f"{a['from']} -> {a['to']}: {a['how']}"] for a in report["adapted"]),
            *(["skipped", s["tensor"], s["reason"]] for s in report["skipped"])]
    return [Section("Pretrained weights", ["what", "tensor", "detail"], rows)]
