"""Every deployment format of a run side by side, as Ultralytics' `benchmark` does: file size, batch-1 latency
(median, p90), throughput at a batch size, and test accuracy with its drop against eager PyTorch."""
from __future__ import annotations

import importlib.util
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fashionseg.errors import FashionsegError
from fashionseg.infer.export import (
    EXPORTERS,
    AtSize,
    check_format,
    example_input,
    fed_at,
    fixed_size,
    load_artefact,
    quiet,
)
from fashionseg.infer.quantize import (
    label_agreement,
    labelled_batches,
    labelled_test_batches,
    quantize,
    training_batches,
)
from fashionseg.infer.trained import TrainedRun, load_run
from fashionseg.report.tables import markdown_table
from fashionseg.run_folders.folder import RunFolder

FORMATS = ("eager", "torchscript", "export", "onnx", "onnx-int8", "openvino")
HEADER = ["format", "size_mb", "latency_ms_median", "latency_ms_p90", "images_per_s", "accuracy", "drop_vs_eager",
          "agreement_with_eager", "note"]


@dataclass
class Labelled:
    """Other labelled data to score the formats on: batches of (inputs, targets in the run's class indices) as
    the run's loaders gave them, the target value to ignore, a name for the results folder and a description."""
    batches: object
    ignore: int | None
    name: str
    source: str


@dataclass
class Timing:
    repeats: int = 50  # timed batch-1 calls
    batch: int = 32  # throughput batch size
    batch_repeats: int = 5


def check_formats(formats: list[str]) -> list[str]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise FashionsegError(f"unknown benchmark format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    for fmt in formats:
        if fmt.startswith("onnx"):
            check_format("onnx")
    return formats


def artefacts(trained: TrainedRun, fmt: str) -> tuple[int, object]:
    """(file size in bytes, a function of a float batch returning logits) for `fmt`."""
    size = trained.summary.get("input_size")
    if fmt == "eager":
        buf = io.BytesIO()
        torch.save(trained.model.state_dict(), buf)
        return len(buf.getvalue()), AtSize(trained.model, size).eval()
    data = EXPORTERS["onnx" if fmt == "onnx-int8" else fmt](trained.model, size, example_input(trained, 2))
    if fmt == "onnx-int8":
        data = quantize(data, training_batches(trained))
    # OpenVINO's IR takes the training size only: fed as its JSON says (the resize is timed, as a user pays it)
    return len(data), fed_at(load_artefact("onnx" if fmt == "onnx-int8" else fmt, data), fixed_size(trained, fmt))


def latencies_ms(model, x: torch.Tensor, repeats: int) -> np.ndarray:
    """Milliseconds per call of `model` on `x`, after three warm-up calls."""
    for _ in range(3):
        model(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append((time.perf_counter() - start) * 1000)
    return np.array(times)


def accuracy(model, batches: list[torch.Tensor], targets: list[torch.Tensor], ignore: int | None) -> float:
    """Top-1 accuracy (classification) or pixel accuracy (segmentation; `ignore` pixels left out)."""
    right = total = 0
    for x, y in zip(batches, targets):
        pred = model(x).argmax(1)
        keep = y != ignore if ignore is not None else torch.ones_like(y, dtype=torch.bool)
        right, total = right + int(((pred == y) & keep).sum()), total + int(keep.sum())
    return right / max(total, 1)


def benchmark_row(trained: TrainedRun, fmt: str, timing: Timing, test, eager) -> list:
    """One format's row: size, batch-1 latency, throughput, accuracy on `test` (inputs, targets, the target
    value to ignore), drop and agreement against eager."""
    if fmt == "openvino" and importlib.util.find_spec("openvino") is None:
        return [fmt, *[None] * 7, "not installed (pip install 'fashionseg[openvino]')"]
    try:
        with torch.no_grad(), quiet():
            nbytes, model = artefacts(trained, fmt)
            one = latencies_ms(model, example_input(trained, 1), timing.repeats)
            many = latencies_ms(model, example_input(trained, timing.batch), timing.batch_repeats)
            acc = accuracy(model, *test)
            agree = label_agreement(model, eager[1], test[0])
    except Exception as exc:  # one format that cannot be built must not hide the others
        return [fmt, *[None] * 7, f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"]
    drop = None if eager[0] is None else eager[0] - acc
    return [fmt, nbytes / 2**20, float(np.median(one)), float(np.percentile(one, 90)),
            timing.batch * 1000 / float(np.median(many)), acc, drop, agree, ""]


def benchmark_run(path, formats=FORMATS, timing: Timing | None = None, images: int = 0,
                  labelled: Labelled | None = None) -> tuple[Path, list[list]]:
    """Benchmark run `path` (a folder, or a loaded TrainedRun) in each of `formats` on its test set (the first
    `images`; 0: all), or on `labelled` data, and write benchmark.csv and benchmark.md under RUN/benchmark/
    (RUN/benchmark/<labelled.name>/ for other data); returns that folder and the rows."""
    timing = timing or Timing()
    check_formats(list(formats))
    trained = path if isinstance(path, TrainedRun) else load_run(path, on=torch.device("cpu"))
    if labelled is None:
        test, ignore, scored_on = labelled_test_batches(trained, images), trained.summary.get("ignore_index"), None
    else:
        test, ignore, scored_on = labelled_batches(labelled.batches, images), labelled.ignore, labelled.source
    with torch.no_grad():
        eager_model = AtSize(trained.model, trained.summary.get("input_size")).eval()
        eager = (accuracy(eager_model, *test, ignore), eager_model)
    rows = [benchmark_row(trained, fmt, timing, (*test, ignore), eager) for fmt in formats]
    folder = RunFolder(trained.run.path / "benchmark" / (labelled.name if labelled else ""))
    folder.write_csv("benchmark.csv", HEADER, rows)
    n = sum(len(x) for x in test[0])
    scored = f"{n} test images" if scored_on is None else f"{n} images of {scored_on}"
    lines = [f"# Deployment formats: {trained.run.path.name}", "",
             f"CPU, {torch.get_num_threads()} threads; latency at batch 1 over {timing.repeats} calls, throughput at "
             f"batch {timing.batch}; accuracy on {scored} (top-1, or pixel accuracy for segmentation).", "",
             *markdown_table(HEADER, rows)]
    folder.write_text("benchmark.md", "\n".join(lines) + "\n")
    return folder.path, rows
