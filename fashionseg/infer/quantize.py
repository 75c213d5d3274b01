"""ONNX Runtime INT8: static quantisation of a run's float ONNX model, calibrated on its training images,
and judged by how often its labels agree with the float model's (not by how close the logits are)."""
from __future__ import annotations

import tempfile
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from fashionseg.errors import FashionsegError
from fashionseg.infer.trained import TrainedRun

INT8_AGREEMENT = 0.95  # at least this share of top-1 (classification) or pixel (segmentation) labels agree
CALIBRATION_BATCHES = 8  # training batches that set the activations' ranges
CHECK_IMAGES = 256  # test images the INT8 model's labels are compared on


def training_batches(trained: TrainedRun, n: int = CALIBRATION_BATCHES) -> list[np.ndarray]:
    """The first `n` training batches in order, as the model sees them (normalised float32 NCHW)."""
    loader = trained.data.dls.train.new(shuffle=False, drop_last=False)
    return [batch[0].float().cpu().numpy() for batch in islice(loader, n)]


def labelled_test_batches(trained: TrainedRun, images: int = CHECK_IMAGES) -> tuple[list, list]:
    """Input and target batches (float and long tensors) covering the run's first `images` test images (all
    of them when 0)."""
    return labelled_batches(trained.data.test_dl, images)


def labelled_batches(batches, images: int = 0) -> tuple[list, list]:
    """Plain float input and long target tensors of the first `images` items of `batches` (0: all)."""
    xs, ys = [], []
    for batch in batches:
        xs.append(batch[0].as_subclass(torch.Tensor).float().cpu())  # fastai's tensor types left behind
        ys.append(batch[1].as_subclass(torch.Tensor).long().cpu())
        if images and sum(map(len, xs)) >= images:
            break
    return xs, ys


def quantize(float_onnx: bytes, calibration: list[np.ndarray]) -> bytes:
    """The float model statically quantised (QDQ, INT8 weights per channel, UINT8 activations)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(calibration)

        def get_next(self):
            x = next(self.batches, None)
            return None if x is None else {"input": x}

    with tempfile.TemporaryDirectory(prefix="fashionseg-int8-") as tmp:
        src, pre, out = (Path(tmp) / name for name in ("float.onnx", "pre.onnx", "int8.onnx"))
        src.write_bytes(float_onnx)
        quant_pre_process(str(src), str(pre))
        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return out.read_bytes()


def label_agreement(model, reference, batches: list[torch.Tensor]) -> float:
    """The share of labels (argmax over classes: one per image, or one per pixel) on which two models agree."""
    same = total = 0
    for x in batches:
        a, b = model(x).argmax(1), reference(x).argmax(1)
        same, total = same + int((a == b).sum()), total + a.numel()
    return same / max(total, 1)


def check_agreement(agreement: float):
    """INT8 is judged by its labels: too few agreeing with the float model's is an error."""
    if agreement < INT8_AGREEMENT:
        raise FashionsegError(f"the INT8 model's labels agree with the float model's on only {agreement:.1%} of the "
                              f"checked test labels (needs {INT8_AGREEMENT:.0%}); export it as float "
                              "(--format onnx without --int8)")
