"""A trained run as one standalone file for inference without fashionseg (TorchScript, torch.export's
.pt2, ONNX, or OpenVINO's IR: model.xml with its model.bin), checked against the run's model, with a JSON beside
it of the preprocessing it expects."""
from __future__ import annotations

import importlib.util
import io
import json
import logging
import tempfile
import warnings
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import torch
import torch.nn.functional as F

from fashionseg.errors import FashionsegError
from fashionseg.infer.trained import TrainedRun, load_run
from fashionseg.utils.files import atomic_write, check_file_path
from fashionseg.version import __version__

FORMATS = {"torchscript": "pt", "export": "pt2", "onnx": "onnx", "openvino": "xml"}
ONNX_NEEDS = ("onnx", "onnxruntime", "onnxscript")  # onnxscript: torch's dynamo exporter, which follows AtSize
NEEDS = {"onnx": (ONNX_NEEDS, "onnx"), "openvino": (("onnx", "onnxscript", "openvino"), "openvino")}
TOLERANCE = 1e-4


class AtSize(torch.nn.Module):
    """The run's model behind the resizing it was trained with (as `RunAtSize` does with hooks, which no
    exporter can follow for every input size): any height and width in, scores at that size out."""

    def __init__(self, model: torch.nn.Module, size: Optional[List[int]]):
        super().__init__()
        self.model, self.size = model, size

    def forward(self, x):
        h, w = x.shape[-2], x.shape[-1]
        size = self.size
        if size is not None:
            x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        y = self.model(x)
        if size is not None and y.dim() == 4:
            y = F.interpolate(y, size=[h, w], mode="bilinear", align_corners=False)
        return y


def export_run(path, fmt: str = "torchscript", out=None) -> tuple[Path, Path, float]:
    """Write run `path`'s model as `fmt` to `out` (default RUN/export/model.<ext>) and `out`.json beside it;
    returns both paths and the largest difference from the run's model on the check inputs."""
    check_format(fmt)
    trained = load_run(path, on=torch.device("cpu"))
    out = Path(out) if out else trained.run.path / "export" / f"model.{FORMATS[fmt]}"
    check_file_path(out, "--out", f"model.{FORMATS[fmt]}")
    if fmt == "openvino" and out.suffix != ".xml":
        raise FashionsegError(f"OpenVINO's IR is an .xml file with its .bin beside it; give --out a path ending in "
                              f".xml, not {out.name}")
    size = trained.summary.get("input_size")
    example = example_input(trained, 2)
    with torch.no_grad(), quiet():
        try:
            data = EXPORTERS[fmt](trained.model, size, example)
            diff = check_outputs(fmt, data, AtSize(trained.model, size).eval(), check_inputs(trained, fmt))
        except FashionsegError:
            raise
        except Exception as exc:  # the exporter's, or the runtime's reading its file back
            raise export_error(trained, fmt, exc) from exc
    write_artefact(out, data)
    meta = out.with_name(out.name + ".json")  # model.onnx.json: each format's own, side by side
    atomic_write(meta, json.dumps(describe(trained, fmt, out), indent=2) + "\n")
    return out, meta, diff


@contextmanager
def quiet():
    """The tracers' and exporters' warnings, log lines and graph dumps held back: the outputs are checked
    instead, and a failure is one line of ours."""
    with warnings.catch_warnings(), redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def check_format(fmt: str):
    """A known format whose packages are installed."""
    if fmt not in FORMATS:
        raise FashionsegError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    modules, extra = NEEDS.get(fmt, ((), ""))
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise FashionsegError(f"--format {fmt} needs {' and '.join(missing)}: pip install 'fashionseg[{extra}]'")


def example_input(trained: TrainedRun, batch: int, grow: int = 0, at=None) -> torch.Tensor:
    """A seeded normalised-looking batch at the data's image size (else the training size; or `at`), `grow`
    pixels larger."""
    h, w = at or trained.summary.get("image_size") or trained.summary["input_size"]
    gen = torch.Generator().manual_seed(batch)
    return torch.randn(batch, trained.summary["n_in"], h + grow, w + grow, generator=gen)


def check_inputs(trained: TrainedRun, fmt: str) -> list[torch.Tensor]:
    """Inputs the artefact must answer like the run's model: another batch size, and another image size
    where the artefact takes any."""
    at = fixed_size(trained, fmt)
    return [example_input(trained, 2, at=at), example_input(trained, 3, grow=7 if dynamic_size(trained, fmt) else 0,
                                                           at=at)]


def dynamic_size(trained: TrainedRun, fmt: str | None = None) -> bool:
    """Whether the artefact takes any height and width: it resizes to the training size inside (not OpenVINO's
    IR, see `fixed_size`)."""
    return bool(trained.summary.get("input_size")) and fmt != "openvino"


def fixed_size(trained: TrainedRun, fmt: str):
    """The one input size an artefact takes where the run resizes inside but the format cannot follow it: OpenVINO
    reads ONNX's antialiased resize as a plain one, so its IR is fed the training size itself."""
    return trained.summary.get("input_size") if fmt == "openvino" else None


def dynamic_dims(size) -> dict:
    """torch.export's dynamic dimensions of the input: the batch, and height and width when it resizes."""
    dims = {0: torch.export.Dim("batch", min=1)}
    if size:
        dims.update({2: torch.export.Dim("height", min=2), 3: torch.export.Dim("width", min=2)})
    return dims


def shrink(x: torch.Tensor, size) -> torch.Tensor:
    """`x` resized to the training size as `RunAtSize` does it (unchanged when the run has none)."""
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False) if size else x


def torchscript(model, size, example) -> bytes:
    """The model traced at its training size, inside a scripted `AtSize` so any input size works."""
    inner = torch.jit.trace(model, shrink(example, size))
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(AtSize(inner, size)), buf)
    return buf.getvalue()


def exported(model, size, example) -> bytes:
    """torch.export's program of `AtSize`, with a dynamic batch (and height and width when it resizes)."""
    program = torch.export.export(AtSize(model, size).eval(), (example,), dynamic_shapes=(dynamic_dims(size),))
    buf = io.BytesIO()
    torch.export.save(program, buf)
    return buf.getvalue()


def onnx(model, size, example) -> bytes:
    """The ONNX graph of `AtSize` from torch's dynamo exporter (antialiased resize included), with the same
    dynamic batch, height and width as `exported`."""
    program = torch.onnx.export(AtSize(model, size).eval(), (example,), dynamo=True, verbose=False,
                                dynamic_shapes=(dynamic_dims(size),), input_names=["input"], output_names=["logits"])
    return program.model_proto.SerializeToString()


@dataclass
class IRFiles:
    """OpenVINO's intermediate representation: the graph (model.xml) and its weights (model.bin, beside it)."""
    xml: bytes
    weights: bytes

    def __len__(self) -> int:
        return len(self.xml) + len(self.weights)


def openvino(model, size, example) -> IRFiles:
    """OpenVINO's IR converted (`openvino.convert_model`) from the ONNX graph of `onnx`, so the same dynamic batch,
    height and width."""
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix="fashionseg-openvino-") as tmp:
        src, xml = Path(tmp) / "model.onnx", Path(tmp) / "model.xml"
        src.write_bytes(onnx(model, size, example))
        ov.save_model(ov.convert_model(str(src)), str(xml), compress_to_fp16=False)  # the run's fp32 weights
        return IRFiles(xml.read_bytes(), xml.with_suffix(".bin").read_bytes())


def openvino_runner(files: IRFiles):
    """The IR compiled for this machine's CPU in fp32, as a function of a float batch (OpenVINO would otherwise
    run bf16 on CPUs that have it, 1e-2 away from the run's outputs)."""
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix="fashionseg-openvino-") as tmp:
        xml = Path(tmp) / "model.xml"
        xml.write_bytes(files.xml)
        xml.with_suffix(".bin").write_bytes(files.weights)
        compiled = ov.Core().compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return lambda x: torch.from_numpy(compiled(x.numpy())[0])


def write_artefact(out: Path, data):
    """The export's file(s): an IR's model.bin goes beside its .xml, under the same stem."""
    if isinstance(data, IRFiles):
        atomic_write(out.with_suffix(".bin"), data.weights)
        data = data.xml
    atomic_write(out, data)


EXPORTERS = {"torchscript": torchscript, "export": exported, "onnx": onnx, "openvino": openvino}


def load_artefact(fmt: str, data: bytes):
    """The artefact read back with plain torch, onnxruntime or OpenVINO, as a function of a float batch."""
    if fmt == "torchscript":
        return torch.jit.load(io.BytesIO(data))
    if fmt == "export":
        return torch.export.load(io.BytesIO(data)).module()
    if fmt == "openvino":
        return openvino_runner(data)
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return lambda x: torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


def check_outputs(fmt: str, data: bytes, reference, inputs) -> float:
    """The largest difference between the artefact and the run's model on `inputs`; too large is an error."""
    artefact = load_artefact(fmt, data)
    diff = max(float((artefact(x) - reference(x)).abs().max()) for x in inputs)
    if not diff <= TOLERANCE:
        raise FashionsegError(f"the {fmt} export's outputs differ from the run's model by {diff:.2g}; "
                              f"try --format {other_format(fmt)}")
    return diff


def other_format(fmt: str) -> str:
    return next(f for f in FORMATS if f != fmt)


def export_error(trained: TrainedRun, fmt: str, exc: Exception) -> FashionsegError:
    """One line saying which format failed for which architecture, and what to try instead."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return FashionsegError(f"architecture {trained.recipe.arch!r} cannot be exported as {fmt} "
                           f"({type(exc).__name__}: {first}); try --format {other_format(fmt)}")


def describe(trained: TrainedRun, fmt: str, out: Path) -> dict:
    """model.json: everything needed to feed the artefact and read its output, without fashionseg."""
    summary = trained.summary
    n_in, classes, size = summary["n_in"], summary["classes"], summary.get("input_size")
    segmentation = trained.task.tiles  # the task predicts a map per image (a mask), not one label
    if dynamic_size(trained, fmt):
        accepts = f"any height and width (at least 2); resized inside to {size[0]}x{size[1]}, the training size"
        resize = None
    elif fixed_size(trained, fmt):
        h, w = fixed_size(trained, fmt)
        accepts = (f"{h}x{w} only, the training size: resize images to it first (preprocessing.resize; OpenVINO "
                   "resizes without antialiasing, so the model's own resize is left idle)")
        resize = resize_to((h, w))
    elif summary.get("image_size"):  # the data's one image size, which the model was built for: the caller resizes
        h, w = summary["image_size"]
        accepts = f"{h}x{w} only: resize images to it first (preprocessing.resize)"
        resize = resize_to((h, w))
    else:
        accepts, resize = "the sizes of the images it was trained on (they varied)", None
    return {
        "fashionseg_version": __version__, "run": str(trained.run.path.resolve()), "weights": "model.pth",
        "format": fmt, "file": out.name, **({"weights_file": out.with_suffix(".bin").name} if fmt == "openvino" else {}),
        "task": summary["task"], "classes": classes,
        "colors": summary.get("colors") if segmentation else None,
        "preprocessing": preprocessing(summary, resize),
        "input": {"name": "input", "shape": ["batch", n_in, "height", "width"], "accepts": accepts},
        "output": {**trained.task.output(len(classes)),
                   **{k: summary[k] for k in trained.task.exported_facts if k in summary}},
    }


def export_int8(path, out=None) -> tuple[Path, Path, float]:
    """Run `path`'s model as an INT8 ONNX file (static quantisation calibrated on its training images), its
    labels checked against the float model's on test images; returns the file, its JSON and the agreement."""
    from fashionseg.infer.quantize import (
        CALIBRATION_BATCHES,
        INT8_AGREEMENT,
        check_agreement,
        label_agreement,
        labelled_test_batches,
        quantize,
        training_batches,
    )

    check_format("onnx")
    trained = load_run(path, on=torch.device("cpu"))
    out = Path(out) if out else trained.run.path / "export" / "model.int8.onnx"
    check_file_path(out, "--out", "model.int8.onnx")
    size = trained.summary.get("input_size")
    reference = AtSize(trained.model, size).eval()
    with torch.no_grad(), quiet():
        try:
            data = quantize(onnx(trained.model, size, example_input(trained, 2)), training_batches(trained))
            agreement = label_agreement(load_artefact("onnx", data), reference, labelled_test_batches(trained)[0])
        except Exception as exc:  # the exporter's or the quantiser's
            raise export_error(trained, "onnx", exc) from exc
    check_agreement(agreement)
    atomic_write(out, data)
    meta = out.with_name(out.name + ".json")
    info = {"int8": {"calibration": f"the first {CALIBRATION_BATCHES} training batches", "label_agreement":
                     agreement, "required_agreement": INT8_AGREEMENT}}
    atomic_write(meta, json.dumps({**describe(trained, "onnx", out), **info}, indent=2) + "\n")
    return out, meta, agreement


def preprocessing(summary: dict, resize: dict | None) -> dict:
    """How to turn an image into the model's input, from the run's data.json (`resize`: to a size, or None)."""
    n_in = summary["n_in"]
    mean, std = summary["stats"] or (None, None)
    return {"color_mode": "RGB" if n_in == 3 else "L", "channels": n_in, "dtype": "float32", "layout": "NCHW",
            "divide_by": 255, "mean": mean, "std": std, "resize": resize,
            "steps": "decode to uint8 in color_mode; x = pixels / divide_by; x = (x - mean[c]) / std[c] per "
                     "channel (skip when mean is null); resize when resize is not null; stack as (batch, C, H, W)"}


def resize_to(size) -> dict:
    """The `preprocessing.resize` entry for a fixed size, as the run resized."""
    return {"size": list(size), "mode": "bilinear", "antialias": True, "align_corners": False}


def fed_at(run, size):
    """`run` (a function of a float batch) fed its input resized to `size` first, as preprocessing.resize says,
    and score maps scaled back to the input's size as the run's model does; unchanged when `size` is None."""
    if not size:
        return run
    spec = resize_to(size)

    def resized(x):
        y = run(F.interpolate(x, size=spec["size"], mode=spec["mode"], antialias=spec["antialias"],
                              align_corners=spec["align_corners"]))
        if y.dim() == 4 and y.shape[-2:] != x.shape[-2:]:
            y = F.interpolate(y, size=list(x.shape[-2:]), mode="bilinear", align_corners=False)
        return y

    return resized
