"""The example third-party plugin: pip-installed, listed, and trained through a recipe."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "examples" / "fashionseg-example-plugin"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """Environment in which the example plugin is pip-installed (into a target folder; no network)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(PLUGIN)], check=True, timeout=300)
    assert list(target.glob("fashionseg_example_plugin-0.2.0.dist-info"))
    return {**os.environ, "PYTHONPATH": str(target), "COLUMNS": "200"}


def cli(env, *args):
    return subprocess.run([sys.executable, "-m", "fashionseg.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=600)


def test_plugin_components_appear_in_list_and_plugins(plugin_env):
    listing = cli(plugin_env, "list").stdout
    assert "example-mlp" in listing and "example-top2-accuracy" in listing
    plugins = cli(plugin_env, "plugins").stdout
    assert "fashionseg-example-plugin" in plugins and "0.2.0" in plugins
    assert "fashionseg_recipes" in plugins


def test_recipe_naming_the_plugin_architecture_trains(plugin_env, tmp_path, fashion_mnist_dir):
    res = cli(plugin_env, "train", "example-mlp", "--epochs", "1", "--limit", "3000", "--runs-dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    (run,) = tmp_path.iterdir()
    with open(run / "metrics.csv") as f:
        header = f.readline()
    assert "example_top2_accuracy" in header or "top2_accuracy" in header
    assert json.loads((run / "metrics.json").read_text())["accuracy"] > 0.5


def test_without_the_plugin_its_names_are_unknown():
    res = cli({**os.environ}, "train", "seed000", "--arch", "example-mlp")
    assert res.returncode == 2 and "unknown architecture 'example-mlp'" in res.stderr
