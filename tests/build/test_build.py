"""build.py: every recipe mistake is found before a run folder exists; plugins that break the
contract get one error naming them; a trained model comes back from its run folder alone."""
import pytest
import torch
from rich.console import Console

import fashionseg.registry.plugins as registry_module
from fashionseg import Architecture, Dataset, FashionsegError, Metric, Recipe, create_model, hookimpl
from fashionseg.build.checks import check_recipe
from fashionseg.engine.trainer import run
from fashionseg.infer.trained import load_run


def recipe(**changes):
    settings = dict(name="chk", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"], epochs=1)
    return Recipe(**{**settings, **changes})


@pytest.mark.parametrize("changes, message", [
    ({"arch_options": {"widht": 3}}, r"'seed000-cnn' takes arch_options none; .*widht"),
    ({"arch": "fmnist-fastnet", "arch_options": {"widht": 3}}, r"takes arch_options widths, convs, hidden, dropout, pool_first"),
    ({"data_options": {"augmnet": "flip"}}, r"'fashion-mnist' takes data_options path, augment, download, balance, balance_beta; not augmnet"),
    ({"data_options": {"augment": "flip-spin"}}, r"augment 'flip-spin' is not understood"),
    ({"loss": "dice"}, r"unknown loss 'dice'"),
    ({"loss": "focal", "loss_options": {"smoothness": 1}}, r"loss 'focal' rejected its options"),
    ({"metrics": ["per-class-iou"]}, r"metric 'per-class-iou' is for segmentation"),
])
def test_recipe_mistakes_are_found_before_any_run_folder(changes, message, tmp_path):
    with pytest.raises(FashionsegError, match=message):
        run(recipe(**changes), runs_dir=tmp_path, console=Console(quiet=True))
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


def test_an_architecture_given_the_wrong_input_size_fails_before_training(tmp_path, fashion_mnist_dir):
    wrong = recipe(dataset="placed-fashion-mnist", limit=64, eval_limit=64)
    with pytest.raises(FashionsegError, match=r"'seed000-cnn' needs 28x28 inputs, but .* gives \(56, 56\)"):
        run(wrong, runs_dir=tmp_path, console=Console(quiet=True))
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


def broken_plugin(**hooks):
    plugin = type("Broken", (), {})
    for name, value in hooks.items():
        setattr(plugin, name, staticmethod(hookimpl(specname=name)(lambda value=value: value)))
    return plugin


class NoUpdate:
    def result(self, classes):
        return {}


@pytest.mark.parametrize("hooks, kind, message", [
    ({"fashionseg_architectures": Architecture("x", "m:f", "classification", "x")}, "architecture",
     r"returned Architecture from fashionseg_architectures; it must return a list"),
    ({"fashionseg_metrics": ["accuracy"]}, "metric", r"contributed metric 'accuracy' as a str"),
])
def test_a_hook_returning_the_wrong_type_is_an_error_naming_the_plugin(hooks, kind, message):
    reg = registry_module.load_plugins([broken_plugin(**hooks)])
    with pytest.raises(FashionsegError, match=r"plugin '.*Broken.*' " + message):
        reg.components(kind)


def test_a_final_metric_without_update_and_a_dataset_returning_junk_are_named(monkeypatch, tmp_path):
    plugin = broken_plugin(
        fashionseg_metrics=[Metric("no-update", NoUpdate, "classification", "x", stage="final")],
        fashionseg_datasets=[Dataset("junk", lambda request: [1, 2], "classification", "x")])
    monkeypatch.setattr(registry_module, "_default", registry_module.load_plugins([plugin]))
    with pytest.raises(FashionsegError, match=r"final metric 'no-update' of plugin .* has no update method"):
        check_recipe(recipe(metrics=["no-update"]))
    with pytest.raises(FashionsegError, match=r"data set 'junk' of plugin .* returned list; .* must return fashionseg.Data"):
        run(recipe(dataset="junk"), runs_dir=tmp_path, console=Console(quiet=True))
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


def test_a_trained_model_comes_back_from_its_run_folder_without_the_data(fashion, tmp_path, monkeypatch):
    result, _, _ = fashion  # seed000-cnn with metrics ["accuracy"], as recipe() makes it: helpers.runs.fashion_recipe
    monkeypatch.setenv("FASHIONSEG_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    trained = load_run(result.run.path)
    assert trained.task.name == "classification" and trained.summary["classes"][0] == "T-shirt/top"
    saved = create_model("seed000-cnn", 10, 1).eval()  # the architecture with the weights file, by hand
    saved.load_state_dict(torch.load(result.run.path / "model.pth", weights_only=True))
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(trained.model(x), saved(x), atol=1e-5)


class ResultNotADict:
    def update(self, probs, targets):
        pass

    def result(self, classes):
        return 0.5


@pytest.mark.slow
def test_metrics_and_data_that_break_the_contract_are_named_before_or_at_the_end(monkeypatch, tmp_path,
                                                                                 fashion_mnist_dir):
    from fastai.metrics import accuracy

    from fashionseg.build.learner import build_data
    from fashionseg.registry.plugins import registry

    plugin = broken_plugin(
        fashionseg_metrics=[Metric("not-a-metric", lambda: None, "classification", "x"),
                            Metric("accuracy-again", lambda: accuracy, "classification", "x"),
                            Metric("scalar-result", ResultNotADict, "classification", "x", stage="final")],
        fashionseg_datasets=[Dataset("mislabelled", lambda request: build_data(recipe(limit=64, eval_limit=64),
                                                                               on="cpu"), "segmentation", "x")])
    monkeypatch.setattr(registry_module, "_default", registry_module.load_plugins([plugin]))
    with pytest.raises(FashionsegError, match=r"epoch metric 'not-a-metric' of plugin .* returned NoneType"):
        check_recipe(recipe(metrics=["not-a-metric"]))
    with pytest.raises(FashionsegError, match=r"epoch metrics 'accuracy' and 'accuracy-again' both report as 'accuracy'"):
        check_recipe(recipe(metrics=["accuracy", "accuracy-again"]))
    with pytest.raises(FashionsegError, match=r"'mislabelled' of plugin .* registered for task 'segmentation' but"):
        build_data(Recipe(name="m", dataset="mislabelled", arch="unet"), on="cpu")
    with pytest.raises(FashionsegError, match=r"final metric 'scalar-result' returned float from result\(\)"):
        run(recipe(metrics=["scalar-result"], limit=64, eval_limit=64, bs=32), runs_dir=tmp_path, console=Console(quiet=True))
    assert registry().get("metric", "scalar-result").plugin
