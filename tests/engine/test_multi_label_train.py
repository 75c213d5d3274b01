"""The multi-label recipe end to end as a user runs it: train on a generated tag CSV through the CLI, then
`evaluate` it with an ensemble of its best epochs, `predict` images and a folder to CSV with its tuned
thresholds, and export it to ONNX with those thresholds in model.json, run by onnxruntime."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
from helpers.tagged_images import tag_sets, tagged_folder
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]


def fashionseg(*args, cwd):
    res = subprocess.run([sys.executable, "-m", "fashionseg.cli", *args], capture_output=True, text=True, cwd=cwd,
                         timeout=300, env={**os.environ, "COLUMNS": "200"})  # a wide table is not cut
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def test_train_then_predict_a_multi_label_run(tmp_path, capsys, monkeypatch):
    from fashionseg.cli import main

    def in_process(*args, cwd):  # the same CLI without another process's imports (training went through one)
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("COLUMNS", "200")
        capsys.readouterr()
        assert main(list(args)) == 0, capsys.readouterr().err[-2000:]
        return capsys.readouterr().out

    root = tagged_folder(tmp_path / "photos", 64)
    fashionseg("train", "multi-label", "--epochs", "3", "--bs", "8", "--keep-best", "2", "--show-epochs", "2", "--tta",
               "--runs-dir", "runs",
               "--set", f"data_options.path={root}", "--set", "data_options.image_size=16", cwd=tmp_path)
    run = next((tmp_path / "runs").iterdir())
    summary, metrics = (json.loads((run / name).read_text()) for name in ("data.json", "metrics.json"))
    assert summary["task"] == "multi-label" and summary["classes"] == ["blue", "green", "red"]
    assert summary["thresholds_tuned_on"] == "the validation set, which is also the test set"
    assert len(summary["thresholds"]) == 3 and all(0 < t < 1 for t in summary["thresholds"])
    assert metrics["inference"]["flip_tta"] and metrics["mean_ap"] > 0.9 and metrics["f1_macro"] > 0.8
    assert set(metrics["ap"]) == {"blue", "green", "red"}
    report = (run / "report.md").read_text()
    assert "## Per class" in report and "| red |" in report and "Decision thresholds (tuned on" in report
    assert (run / "figures" / "top_losses.png").stat().st_size > 0
    with open(run / "snapshots" / "top3.csv", newline="") as f:  # each label's own sigmoid, not a softmax
        snapshots = list(csv.DictReader(f))
    assert any(abs(sum(float(r[f"p{n}"]) for n in (1, 2, 3)) - 1) > 0.05 for r in snapshots)

    compared = in_process("evaluate", str(run), "--ensemble", "2", cwd=tmp_path)  # sigmoids averaged, BCE loss
    assert "ensemble of 2" in compared and "mean_ap" in compared

    shown = in_process("predict", str(run), str(root / "images" / "5.png"), cwd=tmp_path)  # 5: red and blue
    assert "applies" in shown and "threshold" in shown
    in_process("predict", str(run), str(root / "images"), "--csv", "tags.csv", cwd=tmp_path)
    with open(tmp_path / "tags.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["file", "labels", "p_blue", "p_green", "p_red"] and len(rows) == 64
    truth = {f"{i}.png": sorted(tags) for i, tags in enumerate(tag_sets(64))}
    right = 0
    for row in rows:
        over = [c for c, t in zip(summary["classes"], summary["thresholds"]) if float(row[f"p_{c}"]) >= t]
        assert row["labels"].split() == over  # the labels column is exactly those at or over their threshold
        right += over == truth[row["file"].rsplit("/", 1)[-1]]
    assert right >= 48  # most images get their whole tag set right (a guess gets 1 in 8)

    in_process("export", str(run), "--format", "onnx", "--out", "tags.onnx", cwd=tmp_path)  # decided without us
    described = json.loads((tmp_path / "tags.onnx.json").read_text())
    assert described["output"]["thresholds"] == summary["thresholds"]
    mean, std = (np.array(v, np.float32).reshape(1, 3, 1, 1) for v in (summary["stats"]))
    pixels = np.asarray(Image.open(root / "images" / "5.png"), np.float32).transpose(2, 0, 1)[None] / 255
    session = onnxruntime.InferenceSession(str(tmp_path / "tags.onnx"))
    logits = session.run(None, {"input": (pixels - mean) / std})[0][0]
    predicted = next(r for r in rows if r["file"].endswith("/5.png"))
    probs = [float(predicted[f"p_{c}"]) for c in described["classes"]]
    assert np.allclose(1 / (1 + np.exp(-logits)), probs, atol=0.02)  # the CSV's probabilities, resized inside
