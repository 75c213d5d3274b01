"""`fashionseg benchmark`: every format of a tiny run timed and scored on its test set, the scores matching the
run's own evaluation; `fashionseg export --int8`: an INT8 ONNX model checked by label agreement."""
import csv
import importlib.util
import json

import onnx
import onnxruntime
import pytest
import torch
from helpers.runs import copy_run

from fashionseg.cli import main
from fashionseg.infer.benchmark import HEADER, Timing, benchmark_run
from fashionseg.infer.quantize import INT8_AGREEMENT, labelled_test_batches
from fashionseg.infer.trained import load_run


def by_format(rows) -> dict:
    return {row[0]: dict(zip(HEADER, row)) for row in rows}


def test_every_format_is_scored_like_the_runs_own_test_evaluation(fashion, tmp_path):
    run = copy_run(fashion[0].run.path, tmp_path)
    folder, rows = benchmark_run(run, ["eager", "torchscript", "export", "onnx", "onnx-int8", "openvino"],
                                 Timing(repeats=5, batch=8))
    rows = by_format(rows)
    test_accuracy = json.loads((run / "metrics.json").read_text())["accuracy"]
    for fmt in ("eager", "torchscript", "export", "onnx", "openvino"):  # float formats: the run's own test accuracy
        assert rows[fmt]["accuracy"] == pytest.approx(test_accuracy, abs=1e-6), fmt
        assert rows[fmt]["agreement_with_eager"] == 1.0 and rows[fmt]["drop_vs_eager"] == pytest.approx(0, abs=1e-9)
        assert 0 < rows[fmt]["latency_ms_median"] <= rows[fmt]["latency_ms_p90"] and rows[fmt]["images_per_s"] > 0
    int8 = rows["onnx-int8"]
    assert int8["agreement_with_eager"] >= INT8_AGREEMENT and int8["size_mb"] < rows["onnx"]["size_mb"]
    assert int8["drop_vs_eager"] == pytest.approx(test_accuracy - int8["accuracy"], abs=1e-6)
    assert importlib.util.find_spec("openvino") is not None  # the test extra installs it
    with open(folder / "benchmark.csv") as f:
        assert [r["format"] for r in csv.DictReader(f)] == list(rows)
    assert "| format | size_mb |" in (folder / "benchmark.md").read_text()


def test_benchmark_command_prints_the_table_and_refuses_unknown_formats(fashion, tmp_path, capsys):
    run = copy_run(fashion[0].run.path, tmp_path)
    assert main(["benchmark", str(run), "--formats", "eager,onnx", "--repeats", "3", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert "Deployment formats" in out and "onnx" in out and (run / "benchmark" / "benchmark.md").is_file()
    assert main(["benchmark", str(run), "--formats", "eager,tensorrt"]) == 2
    assert "unknown benchmark format 'tensorrt'" in capsys.readouterr().err


def test_int8_export_agrees_with_the_float_model_on_test_labels(fashion, tmp_path, capsys):
    run = copy_run(fashion[0].run.path, tmp_path)
    assert main(["export", str(run), "--format", "torchscript", "--int8"]) == 2
    assert "use --format onnx" in capsys.readouterr().err
    assert main(["export", str(run), "--format", "onnx", "--int8"]) == 0
    path = run / "export" / "model.int8.onnx"
    meta = json.loads((run / "export" / "model.int8.onnx.json").read_text())
    assert meta["int8"]["required_agreement"] == INT8_AGREEMENT
    trained = load_run(run, on=torch.device("cpu"))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xs, _ = labelled_test_batches(trained)
    with torch.no_grad():
        same = sum(int((torch.from_numpy(session.run(None, {"input": x.numpy()})[0]).argmax(1) ==
                        trained.model(x).argmax(1)).sum()) for x in xs)
    assert same / sum(map(len, xs)) == pytest.approx(meta["int8"]["label_agreement"])
    assert meta["int8"]["label_agreement"] >= INT8_AGREEMENT
    assert any(n.op_type == "QuantizeLinear" for n in onnx.load(str(path)).graph.node)


def test_segmentation_formats_score_the_runs_pixel_accuracy_without_ignored_pixels(mask_run, tmp_path):
    _, _, result = mask_run  # facade-fcn on generated pairs whose masks have ignored pixels
    run = copy_run(result.run.path, tmp_path)
    _, rows = benchmark_run(run, ["eager", "onnx", "openvino"], Timing(repeats=3, batch=2))
    rows = by_format(rows)
    pixel_accuracy = json.loads((run / "metrics.json").read_text())["pixel_accuracy"]
    for fmt in ("eager", "onnx", "openvino"):  # OpenVINO fed the training size, its maps scaled back as eager's
        assert rows[fmt]["accuracy"] == pytest.approx(pixel_accuracy, abs=1e-6), (fmt, rows[fmt]["note"])
    assert rows["onnx"]["agreement_with_eager"] > 0.999 and rows["openvino"]["agreement_with_eager"] > 0.999


def test_benchmark_on_other_data_scores_it_as_evaluate_does(mask_run, tmp_path, capsys):
    """`--data`: the run's test pairs read as new data give its test pixel accuracy, written apart from the
    test-set benchmark; a class the run does not know is one line before anything is built."""
    root, _, result = mask_run
    run = copy_run(result.run.path, tmp_path)
    assert main(["benchmark", str(run), "--formats", "eager,onnx", "--repeats", "2", "--batch", "2",
                 "--data", str(root / "test")]) == 0
    folder = run / "benchmark" / "test"
    with open(folder / "benchmark.csv") as f:
        rows = {r["format"]: r for r in csv.DictReader(f)}
    pixel_accuracy = json.loads((run / "metrics.json").read_text())["pixel_accuracy"]
    for fmt in ("eager", "onnx"):
        assert float(rows[fmt]["accuracy"]) == pytest.approx(pixel_accuracy, abs=1e-5), fmt
    assert f"images of {root / 'test'}" in (folder / "benchmark.md").read_text()
    assert not (run / "benchmark" / "benchmark.csv").exists()  # the test-set benchmark is another file


def test_benchmark_data_with_an_unknown_class_is_one_line(fashion, tmp_path, capsys):
    from helpers.runs import save_pngs

    result, images, _ = fashion
    run = copy_run(result.run.path, tmp_path)
    for name in ("Hat", "Trouser"):
        save_pngs([images[0], images[1]], tmp_path / "shop" / name, ["0.png", "1.png"])
    assert main(["benchmark", str(run), "--formats", "eager", "--data", str(tmp_path / "shop")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "the data has classes the run does not know: Hat" in lines[0], lines
    assert not (run / "benchmark").exists()
