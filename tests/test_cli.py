"""The command line, through subprocesses as a user runs it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "fashionseg.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=600)


def test_list_shows_every_kind_with_task_plugin_and_description():
    out = cli("list").stdout
    for needle in ("architectures", "metrics", "datasets", "recipes", "seed000-cnn", "fashion-cnns",
                   "classification", "per-class-accuracy", "fashion-fast", "Two conv-BN-ReLU-pool"):
        assert needle in out
    only = cli("list", "architectures", "basenet*").stdout
    assert "basenet-improved" in only and "seed000-cnn" not in only and "metrics" not in only


def test_plugins_lists_versions_and_hooks():
    out = cli("plugins").stdout
    assert "fashion-cnns" in out and "fashionseg_architectures" in out and "0.1.0" in out


@pytest.mark.parametrize("args, message", [
    (["train", "seed00"], "unknown recipe 'seed00'. Did you mean 'seed000'?"),
    (["train", "seed000", "--arch", "basenet-improve"], "unknown architecture 'basenet-improve'. Did you mean"),
    (["train", "seed000", "--epochs", "0"], "epochs must be at least 1"),
    (["list", "archs"], "cannot list 'archs'"),
])
def test_user_errors_are_one_line_with_exit_code_2(args, message, tmp_path):
    res = cli(*args, "--runs-dir", str(tmp_path)) if args[0] == "train" else cli(*args)
    assert res.returncode == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not list(tmp_path.glob("*"))  # rejected before any run folder was made


def test_train_and_recipe_script_run_the_same_recipe(tmp_path, fashion_mnist_dir):
    overrides = ["--epochs", "1", "--limit", "6000", "--lr", "1e-2", "--runs-dir", str(tmp_path)]
    res = cli("train", "basenet-improved", *overrides, "--set", "data_options.augment=flip")
    assert res.returncode == 0, res.stderr
    assert "basenet-improved: test set" in res.stdout and "Per class" in res.stdout
    script = subprocess.run([sys.executable, "recipes/basenet_improved.py", *overrides], capture_output=True,
                            text=True, cwd=REPO, timeout=600)
    assert script.returncode == 0, script.stderr
    runs = sorted(tmp_path.iterdir())
    assert len(runs) == 2
    configs = [json.loads((r / "config.json").read_text()) for r in runs]
    assert configs[0]["data_options"] == {"augment": "flip"} and configs[1]["data_options"] == {}
    assert all(c["epochs"] == 1 and c["limit"] == 6000 and c["valid"] == "0.1" for c in configs)
    for r in runs:
        metrics = json.loads((r / "metrics.json").read_text())
        assert metrics["accuracy"] > 0.3 and "valid_accuracy" in metrics


def test_lr_find_prints_suggestions_saves_plot_and_says_how_to_use(tmp_path, fashion_mnist_dir):
    res = cli("lr-find", "fashion-fast", "--iters", "30", "--limit", "4000", "--runs-dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "valley" in res.stdout and "steep" in res.stdout and "--lr" in res.stdout
    (run,) = tmp_path.iterdir()
    suggestions = json.loads((run / "lr_find.json").read_text())["suggestions"]
    assert set(suggestions) == {"valley", "slide", "minimum", "steep"}
    assert all(1e-7 < v < 10 for v in suggestions.values())
    assert (run / "figures" / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
