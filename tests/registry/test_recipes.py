"""Recipes by name (fashionseg.registry.recipes): the repository's recipe files, plugins' recipe hooks,
shadowing and contract errors."""
import pluggy
import pytest

from fashionseg import FashionsegError, Recipe, hookimpl
from fashionseg.registry import hookspecs
from fashionseg.registry import plugins as registry_module
from fashionseg.registry import recipes as recipe_module
from fashionseg.registry.plugins import PluginLoadWarning
from fashionseg.registry.recipes import RecipeShadowWarning, all_recipes, find_recipe


def test_repository_recipes_are_found_by_name():
    names = set(all_recipes())
    assert {"seed000", "basenet", "basenet-improved", "resnet101", "fashion-fast", "fashion-best"} <= names
    seed = find_recipe("seed000")
    assert (seed.arch, seed.epochs, seed.lr, seed.wd, seed.bs, seed.schedule) == ("seed000-cnn", 20, 1e-3, 1e-4, 128, "constant")
    assert seed.opt == "torch-adam"  # the report's optimizer: torch.optim.Adam, L2 weight decay


def test_unknown_recipe_suggests(tmp_path):
    with pytest.raises(FashionsegError, match="Did you mean 'seed000'"):
        find_recipe("seed00")
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    with pytest.raises(FashionsegError, match="defines no `recipe"):
        find_recipe(str(bad))


def plugin(name: str, recipes):
    """A plugin named `name` whose recipe hook returns `recipes()` (or raises what it raises)."""
    obj = type(name, (), {"fashionseg_recipes": hookimpl(lambda self: recipes())})()
    return obj, name


@pytest.fixture
def use_plugins(monkeypatch, tmp_path):
    """Install a registry of only the given plugins; recipe scripts only from an empty folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(recipe_module, "recipe_dirs", lambda: [d for d in [tmp_path / "recipes"] if d.is_dir()])

    def install(*plugins):
        pm = pluggy.PluginManager("fashionseg")
        pm.add_hookspecs(hookspecs)
        for obj, name in plugins:
            pm.register(obj, name=name)
        monkeypatch.setattr(registry_module, "_default", registry_module.Registry(pm))
    return install


def test_a_failing_recipe_hook_warns_naming_its_plugin_and_the_others_load(use_plugins):
    use_plugins(plugin("good", lambda: [Recipe(name="from-good", dataset="d", arch="a")]),
                plugin("broken", lambda: 1 / 0),
                plugin("invalid", lambda: [Recipe(name="bad", dataset="d", arch="a", epochs=0)]))
    with pytest.warns(PluginLoadWarning) as caught:
        recipes = all_recipes()
    assert set(recipes) == {"from-good"} and recipes["from-good"].plugin == "good"
    messages = sorted(str(w.message) for w in caught)
    assert [m.split("'")[1] for m in messages] == ["broken", "invalid"]
    assert "division by zero" in messages[0] and "epochs must be at least 1" in messages[1]
    assert recipes["from-good"].load().name == "from-good"


def test_a_recipe_hook_returning_the_wrong_type_breaks_the_contract_naming_its_plugin(use_plugins):
    use_plugins(plugin("wrong-type", lambda: ["not a recipe"]))
    with pytest.raises(FashionsegError, match=r"plugin 'wrong-type' contributed recipe 'not a recipe' as a str"):
        all_recipes()


def test_two_plugins_registering_one_recipe_name_is_an_error_naming_both(use_plugins):
    use_plugins(plugin("first", lambda: [Recipe(name="same", dataset="d", arch="a")]),
                plugin("second", lambda: [Recipe(name="same", dataset="d", arch="b")]))
    with pytest.raises(FashionsegError, match="recipe 'same' is registered twice: by plugin 'first' and by plugin 'second'"):
        all_recipes()


def test_a_recipe_file_shadowing_a_plugin_recipe_says_so(use_plugins, tmp_path):
    use_plugins(plugin("shipped", lambda: [Recipe(name="my-exp", dataset="d", arch="from-plugin")]))
    (tmp_path / "recipes").mkdir()
    script = tmp_path / "recipes" / "my_exp.py"
    script.write_text("from fashionseg import Recipe\nrecipe = Recipe(name='my-exp', dataset='d', arch='from-file')\n")
    with pytest.warns(RecipeShadowWarning, match=f"recipe file {script} shadows recipe 'my-exp' of plugin 'shipped'"):
        assert find_recipe("my-exp").arch == "from-file"
