"""The example third-party plugin (examples/fashionseg-example-plugin): pip-installed, listed
without importing torch, trained through its recipe, and its declared input size and feature
layer used by the core."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.data import REPO

PLUGIN = REPO / "examples" / "fashionseg-example-plugin"

# What `fashionseg list` does, plus every kind through the registry; reports which heavy modules got imported.
LIST_SCRIPT = """
import contextlib, io, json, sys
from fashionseg.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["list"])
from fashionseg.registry.recipes import all_recipes
from fashionseg.registry.plugins import HOOKS, registry
names = {kind: registry().names(kind) for kind in HOOKS if kind != "recipe"}
names["recipe"] = sorted(all_recipes())
heavy = ["torch", "fastai", "fashionseg_example_plugin.models", "fashionseg_example_plugin.metrics"]
print(json.dumps({"code": code, "listing": out.getvalue(), "names": names,
                  "imported": [m for m in heavy if m in sys.modules]}))
"""


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """A folder the example plugin is pip-installed into (no network, no dependencies)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(PLUGIN)], check=True, timeout=300)
    assert list(target.glob("fashionseg_example_plugin-0.3.0.dist-info"))
    return target


@pytest.fixture(scope="module")
def plugin_env(plugin_site):
    return {**os.environ, "PYTHONPATH": str(plugin_site), "COLUMNS": "200"}


@pytest.fixture(scope="module")
def listed(plugin_env) -> dict:
    """`fashionseg list` and every kind's names, in a fresh process with the example installed."""
    res = subprocess.run([sys.executable, "-c", LIST_SCRIPT], capture_output=True, text=True, cwd=REPO,
                         env=plugin_env, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def cli(env, *args):
    return subprocess.run([sys.executable, "-m", "fashionseg.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=600)


@pytest.mark.slow
@pytest.mark.subprocess
def test_plugin_components_appear_in_list_and_plugins(plugin_env, listed):
    assert listed["code"] == 0 and "example-mlp" in listed["listing"] and "example-top2-accuracy" in listed["listing"]
    assert "example-mlp" in listed["names"]["architecture"] and "example-mlp" in listed["names"]["recipe"]
    plugins = cli(plugin_env, "plugins").stdout
    assert "fashionseg-example-plugin" in plugins and "0.3.0" in plugins
    assert "fashionseg_recipes" in plugins


@pytest.mark.slow
@pytest.mark.subprocess
def test_listing_leaves_the_plugins_factories_unimported(listed):
    assert "fashionseg_example_plugin.models" not in listed["imported"]
    assert "fashionseg_example_plugin.metrics" not in listed["imported"]


@pytest.mark.slow
@pytest.mark.subprocess
def test_listing_with_the_plugin_installed_imports_no_torch(listed):
    assert listed["imported"] == []


@pytest.fixture
def example_registry(plugin_site, monkeypatch):
    """This process's registry, with the installed example plugin among the entry points."""
    import importlib

    import fashionseg.registry.plugins as registry_module

    monkeypatch.syspath_prepend(str(plugin_site))
    importlib.invalidate_caches()
    monkeypatch.setattr(registry_module, "_default", registry_module.load_plugins())
    return registry_module.registry()


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_registry_lists_the_plugins_recipe(example_registry):
    assert "example-mlp" in example_registry.names("recipe")


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_plugin_declares_what_the_core_checks(example_registry):
    arch = example_registry.get("architecture", "example-mlp")
    assert (arch.input_size, arch.feature_layer, arch.plugin) == ((28, 28), "-1", "example")


@pytest.mark.slow
@pytest.mark.subprocess
def test_recipe_naming_the_plugin_architecture_trains_and_embeds(example_registry, plugin_env, tmp_path,
                                                                 fashion_mnist_dir, capsys):
    from fashionseg.cli import main

    # trained through the CLI's main in this process, its registry loaded from the entry points as a new process
    # loads it; `embed` then runs in a new process that finds the plugin's architecture on its own
    assert main(["train", "example-mlp", "--epochs", "1", "--limit", "1000", "--bs", "64", "--set", "eval_limit=500",
                 "--set", "arch_options.hidden=64", "--runs-dir", str(tmp_path)]) == 0, capsys.readouterr().err
    (run,) = tmp_path.iterdir()
    with open(run / "metrics.csv") as f:
        assert "top2_accuracy" in f.readline()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.5 and metrics["top2_accuracy"] >= metrics["accuracy"]
    assert metrics["plugins"]["architecture example-mlp"] == "example"
    res = cli(plugin_env, "embed", str(run), "--sample", "100")  # through the declared feature_layer
    assert res.returncode == 0, res.stderr
    assert json.loads((run / "metrics.json").read_text())["embedding"]["feature_dim"] == 64


def example_recipe(**changes):
    from fashionseg.registry.recipes import find_recipe

    return find_recipe("example-mlp").override(**changes)


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_mismatched_input_size_is_an_error_before_training(example_registry, tmp_path, fashion_mnist_dir):
    from rich.console import Console

    from fashionseg import FashionsegError
    from fashionseg.engine.trainer import run

    recipe = example_recipe(dataset="placed-fashion-mnist", limit=64, eval_limit=64)
    with pytest.raises(FashionsegError, match=r"'example-mlp' needs 28x28 inputs, but .* gives \(56, 56\)"):
        run(recipe, runs_dir=tmp_path, console=Console(quiet=True))
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.subprocess
def test_an_unknown_arch_option_is_named_before_training(example_registry):
    from fashionseg import FashionsegError
    from fashionseg.build.checks import check_recipe

    with pytest.raises(FashionsegError, match=r"'example-mlp' takes arch_options hidden; .*hiden"):
        check_recipe(example_recipe(**{"arch_options.hiden": 64}))


def test_without_the_plugin_its_names_are_unknown(capsys):
    from fashionseg.cli import main

    assert main(["train", "seed000", "--arch", "example-mlp"]) == 2  # this process's registry: no example plugin
    assert "unknown architecture 'example-mlp'" in capsys.readouterr().err
