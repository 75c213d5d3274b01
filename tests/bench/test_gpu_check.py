"""bench/gpu_check.py, the script prepared for the day a GPU is lent, runs here with --smoke."""
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_smoke_measures_each_precision_and_trains(tmp_path, fashion_mnist_dir):
    report = load_script().main(["--smoke", "--recipes", "fashion-fast", "--no-torchrun", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "gpu_check.json").read_text()) == report
    entry = report["recipes"]["fashion-fast"]
    for precision in ("32", "bf16"):
        t = entry["throughput"][precision]
        assert t["bs"] == 16 and t["step_ms"] > 0 and t["loop_ms"] >= t["step_ms"] * 0.5
        assert t["images_per_s_step"] == pytest.approx(16 / (t["step_ms"] / 1000), rel=0.01)
        assert 0 <= t["data_wait_share"] < 1
    assert "needs a CUDA GPU" in entry["throughput"]["fp16"]["skipped"]  # this CPU: skipped with the CLI's reason
    schedule = entry["short_schedule"]
    assert schedule["epochs"] == 2 and 0 <= schedule["accuracy"] <= 1
    assert (tmp_path / "runs" / schedule["run"] / "metrics.json").is_file()
    table = (tmp_path / "gpu_check.md").read_text()
    assert "| fashion-fast | bf16 |" in table and "fashion-fast | 2 epochs, bf16" in table


def test_generated_folder_has_both_splits(tmp_path):
    root = load_script().make_folder(tmp_path, (3, 2), 16)
    assert sorted(p.name for p in (root / "train").iterdir()) == ["blue", "green", "grey", "red"]
    assert len(list((root / "test").rglob("*.jpg"))) == 8
