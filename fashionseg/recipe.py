"""A recipe: one experiment's components (by name) and hyper-parameters."""
from __future__ import annotations

import ast
import dataclasses
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FashionsegError, unknown_name
from .resize import size_schedule

SCHEDULES = ("one-cycle", "constant")
# "adam": fastai's Adam (decoupled weight decay, i.e. AdamW); "torch-adam": torch.optim.Adam
# with L2 weight decay and its defaults, as the source reports trained; "sgd": fastai's SGD.
OPTIMIZERS = ("adam", "torch-adam", "sgd")


@dataclass
class Recipe:
    """Everything needed to reproduce a run; written to the run folder as config.json."""

    name: str
    dataset: str
    arch: str
    metrics: list[str] = field(default_factory=list)
    epochs: int = 5
    lr: float = 1e-3
    bs: int = 128
    wd: float = 1e-4
    schedule: str = "one-cycle"
    opt: str = "adam"  # see OPTIMIZERS
    valid: str = "test"  # "test": official test set validates; hold-out: a fraction "0.1" or items "250-350"
    seed: int = 42
    label_smoothing: float = 0.0
    loss: str = ""  # "": the task's default (cross-entropy); or "focal", "dice-ce", "bce", "mse"
    loss_options: dict = field(default_factory=dict)  # e.g. {"weight": [1, 1, 4, 1, 2]}: per-class weights
    limit: int = 0  # use only this many training items (0: all); for quick checks
    eval_limit: int = 0  # validate and test on only this many items (0: all); for quick checks
    channels_last: bool = False  # often faster for convolutions, on CPU as on GPU
    sizes: list = field(default_factory=list)  # [[epoch, size], ...]: model input size from that epoch on
    arch_options: dict = field(default_factory=dict)
    data_options: dict = field(default_factory=dict)
    keep_best: int = 5  # checkpoints kept with the lowest validation loss, for ensembles (0: none)
    log_every: int = 100  # training iterations between rows of iterations.csv
    tensorboard: bool = False  # also log to TensorBoard event files (needs the tensorboard package)
    description: str = ""

    def __post_init__(self):
        self.validate()

    def validate(self):
        if self.schedule not in SCHEDULES:
            raise FashionsegError(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        if self.opt not in OPTIMIZERS:
            raise FashionsegError(f"opt must be one of {', '.join(OPTIMIZERS)}, not {self.opt!r}")
        for name, lo in (("epochs", 1), ("bs", 1), ("limit", 0), ("eval_limit", 0), ("keep_best", 0), ("log_every", 1)):
            if int(getattr(self, name)) < lo:
                raise FashionsegError(f"{name} must be at least {lo}, got {getattr(self, name)}")
        if not float(self.lr) > 0:
            raise FashionsegError(f"lr must be positive, got {self.lr}")
        size_schedule(self.sizes)
        if self.valid != "test" and valid_range(self.valid) is None:
            try:
                frac = float(self.valid)
            except ValueError:
                frac = -1
            if not 0 < frac < 1:
                raise FashionsegError(
                    f"valid must be 'test', a fraction in (0, 1) or a range such as 250-350, got {self.valid!r}")

    def override(self, **changes) -> "Recipe":
        """A copy with `changes`; keys may name arch_options/data_options entries with a dot."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        values = dataclasses.asdict(self)
        for key, value in changes.items():
            if value is None:
                continue
            if "." in key:
                group, sub = key.split(".", 1)
                if group not in ("arch_options", "data_options", "loss_options"):
                    raise FashionsegError(f"cannot set {key!r}: only arch_options.X, data_options.X and "
                                          "loss_options.X take a dot")
                values[group] = {**values[group], sub: parse_value(value)}
                continue
            if key not in fields:
                raise unknown_name("recipe setting", key, fields)
            values[key] = coerce(fields[key], value)
        return Recipe(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config: dict) -> "Recipe":
        """The recipe a run folder's config.json records."""
        unknown = set(config) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise FashionsegError(f"config has settings this fashionseg does not know: {', '.join(sorted(unknown))}; "
                                  "is the run from a newer version?")
        return cls(**config)


def valid_range(valid) -> range | None:
    """`valid="250-350"` holds out training items 250 to 349; None when `valid` is no such range."""
    start, sep, stop = str(valid).partition("-")
    if not (sep and start.strip().isdigit() and stop.strip().isdigit()) or int(start) >= int(stop):
        return None
    return range(int(start), int(stop))


def parse_value(text):
    """A command-line value as a Python literal where it is one, else the string."""
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def coerce(f: dataclasses.Field, value):
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return value if isinstance(value, bool) else _bool(value)
        if kind.startswith("list"):
            parsed = parse_value(value)
            return parsed if isinstance(parsed, list) else [v for v in str(value).split(",") if v]
        if kind == "dict":
            return value if isinstance(value, dict) else parse_value(value)
    except ValueError:
        raise FashionsegError(f"{f.name} must be a {kind}, got {value!r}") from None
    return str(value)


def _bool(text: str) -> bool:
    if str(text).lower() in ("1", "true", "yes", "on"):
        return True
    if str(text).lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


# ---------------------------------------------------------------- finding recipes
RECIPES_ENV = "FASHIONSEG_RECIPES"


def recipe_dirs() -> list[Path]:
    """Folders searched for recipe scripts: $FASHIONSEG_RECIPES, ./recipes, the source checkout's."""
    dirs = [Path(p) for p in os.environ.get(RECIPES_ENV, "").split(os.pathsep) if p]
    dirs += [Path.cwd() / "recipes", Path(__file__).resolve().parents[1] / "recipes"]
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


def all_recipes() -> dict[str, Recipe | Path]:
    """Recipe name -> script path (scripts) or Recipe (contributed by plugins)."""
    from .registry import registry

    found: dict[str, Recipe | Path] = {}
    for impl in registry().pm.hook.fashionseg_recipes.get_hookimpls():
        for r in impl.function() or []:
            found[r.name] = r
    for d in reversed(recipe_dirs()):
        for path in sorted(d.glob("*.py")):
            if not path.name.startswith("_"):
                found[path.stem.replace("_", "-")] = path
    return found


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
    found = recipes[name]
    return load_recipe_file(found) if isinstance(found, Path) else found
