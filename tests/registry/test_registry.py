"""Registry behaviour: listing, lookup errors, duplicates, broken plugins."""

import pluggy
import pytest

from fashionseg import Architecture, FashionsegError, Metric, hookimpl
from fashionseg.registry import hookspecs
from fashionseg.registry.plugins import PluginLoadWarning, Registry, load_plugins, registry


def test_builtin_components_are_listed_with_their_plugin():
    reg = registry()
    assert {"seed000-cnn", "basenet", "basenet-improved", "resnet101", "fmnist-fastnet"} <= set(reg.names("architecture"))
    assert reg.get("architecture", "seed000-cnn").plugin == "architectures"
    assert reg.get("dataset", "fashion-mnist").task == "classification"
    assert reg.get("metric", "per-class-accuracy").stage == "final"
    assert all(reg.get("architecture", n).description for n in reg.names("architecture"))


def test_wildcards_and_task_filter():
    reg = registry()
    assert reg.names("architecture", "basenet*") == ["basenet", "basenet-bn", "basenet-bn-fc1", "basenet-bn-fc2",
                                                      "basenet-improved"]
    assert reg.names("architecture", "basenet-bn*") == ["basenet-bn", "basenet-bn-fc1", "basenet-bn-fc2"]
    assert "seed000-cnn" in reg.names("architecture", task="classification")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(FashionsegError, match=r"unknown architecture 'basenet-improve'.*'basenet-improved'"):
        registry().get("architecture", "basenet-improve")


def _plugin(name, arch_name):
    ns = type(name, (), {})

    @hookimpl
    def fashionseg_architectures():
        return [Architecture(arch_name, lambda n_classes, n_in: None, task="classification", description="x")]

    ns.fashionseg_architectures = staticmethod(fashionseg_architectures)
    return ns


def test_two_plugins_registering_one_name_is_an_error_naming_both():
    pm = pluggy.PluginManager("fashionseg")
    pm.add_hookspecs(hookspecs)
    pm.register(_plugin("a", "twin"), name="plugin-a")
    pm.register(_plugin("b", "twin"), name="plugin-b")
    with pytest.raises(FashionsegError, match=r"'twin' is registered twice.*plugin-a.*plugin-b|plugin-b.*plugin-a"):
        Registry(pm).components("architecture")


def test_plugin_that_fails_to_import_warns_and_others_still_load(tmp_path, monkeypatch):
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[fashionseg]\nbroken = broken_plugin_module\n")
    (tmp_path / "broken_plugin_module.py").write_text("raise ImportError('missing dependency xyz')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginLoadWarning, match=r"plugin 'broken'.*missing dependency xyz"):
        reg = load_plugins()
    assert "seed000-cnn" in reg.names("architecture")
    assert "broken" not in [p.name for p in reg.plugins()]


def test_plugins_report_package_version_and_hooks():
    infos = {p.name: p for p in registry().plugins()}
    assert infos["architectures"].package == "fashionseg"
    assert infos["architectures"].hooks == ["fashionseg_architecture_providers", "fashionseg_architectures"]
    assert infos["metrics"].hooks == ["fashionseg_metrics"]
    assert infos["classification"].hooks == ["fashionseg_tasks"]


def test_metric_stage_is_validated():
    with pytest.raises(ValueError, match="stage"):
        Metric("m", lambda: None, task="classification", stage="sometimes")
