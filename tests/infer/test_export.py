"""`fashionseg export`: each artefact, read back with plain torch or onnxruntime and fed real test images
preprocessed from its JSON alone, answers like the run's model, at another batch size than the trace's."""
import json
import shutil
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers.runs import copy_run
from PIL import Image

from fashionseg.cli import main
from fashionseg.infer.trained import load_run


@pytest.fixture
def fashion_run(fashion):
    """The session's tiny Fashion-MNIST run (seed000-cnn, see helpers.runs) and 5 real test images (PIL)."""
    result, images, _ = fashion
    return result, [Image.fromarray(a.numpy()) for a in images[:5]]


@pytest.fixture
def facade_run(facade):
    """The session's U-Net, trained at 48 then 64 px on 32 real facade pairs (see helpers.runs); its run and its
    8 real test photos."""
    result, data = facade
    return result, [Image.open(p) for p in sorted((data / "test_dev").glob("*.jpg"))]


def preprocess(images, meta) -> torch.Tensor:
    """Images as the model's input, from the JSON alone (the resize, when asked for, left to `resize_input`)."""
    pre = meta["preprocessing"]
    arrays = [np.asarray(im.convert(pre["color_mode"]), dtype=np.float32) for im in images]
    x = torch.stack([torch.from_numpy(a).reshape(*a.shape[:2], -1).permute(2, 0, 1) for a in arrays])
    x = x / pre["divide_by"]
    if pre["mean"] is not None:
        x = (x - torch.tensor(pre["mean"]).view(1, -1, 1, 1)) / torch.tensor(pre["std"]).view(1, -1, 1, 1)
    return x


def resize_input(x, meta):
    r = meta["preprocessing"]["resize"]
    if r is None:
        return x
    return F.interpolate(x, size=r["size"], mode=r["mode"], antialias=r["antialias"], align_corners=r["align_corners"])


def load_plain(path, fmt):
    """The artefact as a function of a float batch, with torch, onnxruntime or OpenVINO only."""
    if fmt == "openvino":  # the IR's model.bin is read from beside its .xml
        import openvino as ov

        compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        return lambda x: torch.from_numpy(compiled(x.numpy())[0])
    if fmt == "torchscript":
        return torch.jit.load(path)
    if fmt == "export":
        return torch.export.load(path).module()
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda x: torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["torchscript", "export", "onnx", "openvino"])
@pytest.mark.parametrize("which", ["fashion_run", "facade_run"])
def test_artefact_answers_like_the_run_on_real_images_preprocessed_from_its_json(which, fmt, request, tmp_path):
    result, images = request.getfixturevalue(which)
    if fmt in ("onnx", "openvino"):
        pytest.importorskip("onnxruntime" if fmt == "onnx" else "openvino")
    from fashionseg.infer.export import FORMATS, export_run

    out, meta_path, _ = export_run(result.run.path, fmt, tmp_path / "m" / f"model.{FORMATS[fmt]}")
    meta = json.loads(meta_path.read_text())
    if fmt == "openvino":  # OpenVINO's IR: the graph and, beside it, its weights
        assert meta["weights_file"] == out.with_suffix(".bin").name and out.with_suffix(".bin").stat().st_size > 0
    assert meta["format"] == fmt and meta["file"] == out.name and meta["classes"] == json.loads((result.run.path / "data.json").read_text())["classes"]
    model = load_plain(out, fmt)
    reference = load_run(result.run.path, on="cpu").model
    x = preprocess(images, meta)
    assert x.shape[0] != 2  # the trace's batch size is 2: a dynamic batch is exercised
    with torch.no_grad():  # OpenVINO's IR is fed the training size (see its JSON), so the run is asked at it too
        expected = reference(resize_input(x, meta) if fmt == "openvino" else x)
        got = model(resize_input(x, meta))
        assert got.shape == expected.shape
        assert torch.allclose(got, expected, atol=1e-4, rtol=0), float((got - expected).abs().max())
        single = model(resize_input(x[:1], meta))
        assert torch.allclose(single, expected[:1], atol=1e-4, rtol=0)
    if which == "facade_run" and fmt == "openvino":
        assert meta["input"]["accepts"].startswith("64x64 only") and meta["preprocessing"]["resize"]["size"] == [64, 64]
    elif which == "facade_run":  # trained at 64x64 on 256x256 photos: every other format resizes inside
        assert "any height and width" in meta["input"]["accepts"] and meta["preprocessing"]["resize"] is None
    if "any height and width" in meta["input"]["accepts"]:  # another image size than the data's
        odd = preprocess([im.resize((45, 37)) for im in images[:3]], meta)
        with torch.no_grad():
            assert torch.allclose(model(odd), reference(odd), atol=1e-4, rtol=0)


def test_json_preprocessing_is_what_the_data_layer_feeds_the_model(fashion_run, facade_run):
    """The JSON's scale and statistics reproduce the normalised test batches training evaluated on."""
    from fashionseg.infer.export import describe

    for result, images in (fashion_run, facade_run):
        trained = load_run(result.run.path, on="cpu")
        meta = describe(trained, "torchscript", result.run.path / "model.pt")
        batch = trained.data.test_dl.one_batch()[0].cpu()[: len(images)]  # test items in file order: the images
        assert torch.allclose(preprocess(images, meta), batch, atol=1e-5)


def test_json_describes_task_classes_output_and_sizes(facade_run, tmp_path):
    folder = copy_run(facade_run[0].run.path, tmp_path)  # the export lands in the run folder: a copy of the shared run
    assert main(["export", str(folder), "--format", "export"]) == 0
    out = folder / "export" / "model.pt2"
    meta = json.loads((folder / "export" / "model.pt2.json").read_text())
    assert out.is_file() and meta["task"] == "segmentation" and len(meta["colors"]) == len(meta["classes"]) == 5
    assert meta["output"]["shape"] == ["batch", 5, "height", "width"] and "softmax over dim 1" in meta["output"]["meaning"]
    assert "resized inside to 64x64" in meta["input"]["accepts"] and meta["preprocessing"]["resize"] is None
    assert meta["run"] == str(folder.resolve()) and meta["fashionseg_version"]


def one_line_error(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_user_errors_are_one_line_before_writing(fashion_run, tmp_path, capsys, monkeypatch):
    path = str(fashion_run[0].run.path)
    one_line_error(capsys, ["export", str(tmp_path), "--format", "onnx"], "not a run folder")
    bare = tmp_path / "no-weights"
    bare.mkdir()
    for name in ("config.json", "data.json"):
        shutil.copy(fashion_run[0].run.path / name, bare)
    one_line_error(capsys, ["export", str(bare)], "holds no trained weights (model.pth or model.safetensors)")
    one_line_error(capsys, ["export", path, "--format", "tflite"], "unknown export format 'tflite'", "onnx")
    one_line_error(capsys, ["export", path, "--out", str(tmp_path)], "is a folder")
    one_line_error(capsys, ["export", path, "--format", "openvino", "--out", str(tmp_path / "m.onnx")],
                   "give --out a path ending in .xml, not m.onnx")
    (tmp_path / "file").write_text("x")
    one_line_error(capsys, ["export", path, "--out", str(tmp_path / "file" / "m.pt")], "which is a file")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    one_line_error(capsys, ["export", path, "--format", "onnx"], "pip install 'fashionseg[onnx]'")
    monkeypatch.setitem(sys.modules, "openvino", None)
    one_line_error(capsys, ["export", path, "--format", "openvino"], "needs openvino: pip install 'fashionseg[openvino]'")
    assert not (fashion_run[0].run.path / "export").exists()


class Moody(torch.nn.Module):
    """Its answer depends on its input's values: torch.export cannot follow that for every input."""

    def forward(self, x):
        return x.mean((2, 3)) if x.sum() > 0 else -x.mean((2, 3))


class Labelled(torch.nn.Module):
    """Returns a dict: torch.jit.trace refuses it."""

    def forward(self, x):
        return {"logits": x.mean((2, 3))}


class BatchBaked(torch.nn.Module):
    """Scales by its batch size as a Python number: a trace keeps the example's, so other batches differ."""

    def forward(self, x):
        return x.mean((2, 3)) * float(x.shape[0])


@pytest.mark.parametrize("fmt, model, words", [
    ("export", Moody, "'seed000-cnn' cannot be exported as export"),
    ("torchscript", Labelled, "'seed000-cnn' cannot be exported as torchscript"),
    ("torchscript", BatchBaked, "torchscript export's outputs differ from the run's model"),
])
def test_a_model_that_cannot_be_exported_names_the_format_and_another(fashion_run, capsys, monkeypatch, tmp_path,
                                                                    fmt, model, words):
    from fashionseg.infer import export as export_module

    def unexportable_run(path, on=None):
        trained = load_run(path, on=on)
        trained.model = model()
        return trained

    monkeypatch.setattr(export_module, "load_run", unexportable_run)
    one_line_error(capsys, ["export", str(fashion_run[0].run.path), "--format", fmt, "--out", str(tmp_path / "m")],
                   words, f"try --format {'export' if fmt == 'torchscript' else 'torchscript'}")
    assert not (tmp_path / "m").exists()
