"""Finding recipes by name: recipe scripts in the recipe folders, then recipes that plugins contribute."""
from __future__ import annotations

import importlib.util
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from fashionseg.errors import FashionsegError, unknown_name
from fashionseg.recipe.schema import Recipe

# ---------------------------------------------------------------- finding recipes
RECIPES_ENV = "FASHIONSEG_RECIPES"


def recipe_dirs() -> list[Path]:
    """Folders searched for recipe scripts: $FASHIONSEG_RECIPES, ./recipes, the source checkout's."""
    dirs = [Path(p) for p in os.environ.get(RECIPES_ENV, "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "recipes", Path(__file__).resolve().parents[2] / "recipes"]
    seen, unique = set(), []
    for d in dirs:
        if d.is_dir() and d.resolve() not in seen:
            seen.add(d.resolve())
            unique.append(d)
    return unique


def load_recipe_file(path: Path) -> Recipe:
    """The `recipe` object a recipe script defines (the script's main block does not run)."""
    spec = importlib.util.spec_from_file_location(f"fashionseg_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise FashionsegError(f"recipe file {path} failed to load: {exc}") from exc
    recipe = getattr(module, "recipe", None)
    if not isinstance(recipe, Recipe):
        raise FashionsegError(f"recipe file {path} defines no `recipe = Recipe(...)`")
    return recipe


@dataclass
class RecipeSource:
    """Where a recipe name comes from: a recipe script (`path`) or a plugin (`plugin`, `recipe`)."""

    name: str
    path: Path | None = None
    plugin: str | None = None
    recipe: Recipe | None = None

    def load(self) -> Recipe:
        return self.recipe if self.path is None else load_recipe_file(self.path)


def plugin_recipes() -> dict[str, RecipeSource]:
    """Recipes contributed through the `fashionseg_recipes` hook, collected by the registry like every
    component: a hook that fails warns naming its plugin and the others load; a wrong return type or
    one name from two plugins is an error naming them."""
    from fashionseg.registry.plugins import registry

    return {name: RecipeSource(name, plugin=r.plugin, recipe=r) for name, r in registry().components("recipe").items()}


class RecipeShadowWarning(UserWarning):
    """A recipe script has the name of a plugin's recipe and is used instead of it."""


def all_recipes() -> dict[str, RecipeSource]:
    """Every recipe by name: scripts in `recipe_dirs()` (earlier folders first), then plugin recipes."""
    scripts = {}
    for d in reversed(recipe_dirs()):
        for path in sorted(d.glob("*.py")):
            name = path.stem.replace("_", "-")
            if not path.name.startswith("_"):
                scripts[name] = RecipeSource(name, path=path)
    plugins = plugin_recipes()
    for name in sorted(scripts.keys() & plugins.keys()):
        warnings.warn(f"recipe file {scripts[name].path} shadows recipe {name!r} of plugin {plugins[name].plugin!r}",
                      RecipeShadowWarning, stacklevel=2)
    return {**plugins, **scripts}


def find_recipe(name: str) -> Recipe:
    """A recipe by name, or by the path of a recipe script."""
    if name.endswith(".py"):
        path = Path(name)
        if not path.is_file():
            raise FashionsegError(f"recipe file {name} does not exist")
        return load_recipe_file(path)
    recipes = all_recipes()
    if name not in recipes:
        raise unknown_name("recipe", name, recipes)
    return recipes[name].load()
