"""The component registry: every task, architecture, metric, data set and recipe, by name.

Components come from pluggy plugins: the built-in ones and third-party packages are all
loaded through the `fashionseg` entry-point group. Nothing here imports torch.
"""
from __future__ import annotations

import fnmatch
import warnings
from dataclasses import dataclass
from importlib import metadata

import pluggy

from fashionseg.errors import FashionsegError, unknown_name
from fashionseg.registry import hookspecs
from fashionseg.registry.components import ANY_TASK, Architecture, ArchitectureProvider, Component, Dataset, Metric
from fashionseg.registry.task import Task

ENTRY_POINT_GROUP = "fashionseg"
HOOKS = {
    "task": "fashionseg_tasks",
    "architecture": "fashionseg_architectures",
    "architecture provider": "fashionseg_architecture_providers",
    "metric": "fashionseg_metrics",
    "dataset": "fashionseg_datasets",
    "recipe": "fashionseg_recipes",
}


class PluginLoadWarning(UserWarning):
    """A plugin could not be imported; the others still load."""


@dataclass
class PluginInfo:
    name: str
    package: str
    version: str
    hooks: list[str]


class Registry:
    """All components contributed by the plugins in one `PluginManager`."""

    def __init__(self, pm: pluggy.PluginManager, dists: dict[str, metadata.Distribution] | None = None):
        self.pm = pm
        self.dists = dists or {}
        self._components: dict[str, dict[str, Component]] = {}
        self._provided: dict[str, Architecture] = {}  # `timm:<model>` architectures made so far

    def components(self, kind: str) -> dict[str, Component]:
        if kind not in self._components:
            self._components[kind] = self._collect(kind)
        return self._components[kind]

    def _collect(self, kind: str) -> dict[str, Component]:
        found: dict[str, Component] = {}
        hook = getattr(self.pm.hook, HOOKS[kind])
        for impl in hook.get_hookimpls():
            plugin = self.pm.get_name(impl.plugin)
            try:
                contributed = impl.function() or []
            except Exception as exc:  # a broken plugin must not hide the others
                warnings.warn(f"plugin {plugin!r} failed in {HOOKS[kind]}: {exc}", PluginLoadWarning, stacklevel=2)
                continue
            for comp in check_contribution(kind, plugin, contributed):
                comp.plugin = plugin
                if comp.name in found:
                    raise FashionsegError(
                        f"{kind} {comp.name!r} is registered twice: by plugin {found[comp.name].plugin!r} "
                        f"and by plugin {plugin!r}; uninstall or rename one of them."
                    )
                found[comp.name] = comp
        if kind not in ("task", "recipe"):
            check_tasks(kind, found, self.components("task"))
        return found

    def get(self, kind: str, name: str) -> Component:
        comps = self.components(kind)
        if name not in comps and self.provider(kind, name):
            if name not in self._provided:
                self._provided[name] = self.provided(self.provider(kind, name), name)
            return self._provided[name]
        if name not in comps:
            raise unknown_name(kind, name, comps)
        return comps[name]

    def provider(self, kind: str, name: str) -> ArchitectureProvider | None:
        """The provider of `<prefix>:<model>` names for `kind` (architectures), if one has that prefix."""
        prefix, sep, _ = name.partition(":")
        return self.components("architecture provider").get(prefix) if sep and kind == "architecture" else None

    def provided(self, provider: ArchitectureProvider, name: str) -> Architecture:
        arch = provider.load()(name.partition(":")[2])
        if not isinstance(arch, Architecture) or arch.name != name:
            raise FashionsegError(f"architecture provider {provider.name!r} of plugin {provider.plugin!r} returned "
                                  f"{arch!r} for {name!r}; it must return a fashionseg.Architecture named {name!r}")
        arch.plugin = provider.plugin
        return arch

    def names(self, kind: str, pattern: str = "*", task: str | None = None) -> list[str]:
        """Sorted names of `kind`, filtered by a shell-style wildcard and a task; a pattern with a provider's
        prefix (`timm:*resnet*`) lists what that provider offers."""
        fits = (task, "any", self.architectures_from(task) if kind == "architecture" else "")
        provider = self.provider(kind, pattern)
        if provider:
            return [n for n in provider.list(pattern.partition(":")[2]) if task is None or provider.task in fits]
        return sorted(n for n, c in self.components(kind).items()
                      if fnmatch.fnmatch(n, pattern) and (task is None or c.task in fits))

    def architectures_from(self, task: str | None) -> str:
        """The other task whose architectures fit `task` (its `architectures_from`), "" when none or unknown."""
        found = self.components("task").get(task) if task else None
        return found.architectures_from if found else ""

    def task(self, name: str) -> Task:
        """The registered task called `name`."""
        return self.get("task", name)

    def plugins(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist = self.dists.get(name)
            hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or [])
            infos.append(PluginInfo(name, dist.metadata["Name"] if dist else "-", dist.version if dist else "-", hooks))
        return sorted(infos, key=lambda p: p.name)


KIND_TYPES = {"task": Task, "architecture": Architecture, "architecture provider": ArchitectureProvider,
              "metric": Metric, "dataset": Dataset}


def check_contribution(kind: str, plugin: str, contributed) -> list:
    """A hook's return value, checked: a list of the kind's component type, else one clear error."""
    from fashionseg.recipe.schema import Recipe

    expected = KIND_TYPES.get(kind, Recipe)
    if not isinstance(contributed, (list, tuple)):
        raise FashionsegError(f"plugin {plugin!r} returned {type(contributed).__name__} from {HOOKS[kind]}; "
                              f"it must return a list of fashionseg.{expected.__name__}")
    for comp in contributed:
        if not isinstance(comp, expected):
            name = getattr(comp, "name", comp)
            raise FashionsegError(f"plugin {plugin!r} contributed {kind} {name!r} as a {type(comp).__name__}; "
                                  f"{HOOKS[kind]} must return fashionseg.{expected.__name__} objects")
    return list(contributed)


def check_tasks(kind: str, found: dict[str, Component], tasks: dict[str, Task]):
    """Every component names a registered task (or "any")."""
    for comp in found.values():
        if comp.task != ANY_TASK and comp.task not in tasks:
            raise FashionsegError(f"{kind} {comp.name!r} of plugin {comp.plugin!r} is for task {comp.task!r}, "
                                  f"which no installed plugin provides (tasks: {', '.join(sorted(tasks))})")


def load_plugins(extra_plugins=()) -> Registry:
    """A registry over every `fashionseg` entry point; a plugin that fails to import warns."""
    pm = pluggy.PluginManager("fashionseg")
    pm.add_hookspecs(hookspecs)
    dists = {}
    for dist in metadata.distributions():
        for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP):
            if pm.has_plugin(ep.name):
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:
                warnings.warn(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}", PluginLoadWarning, stacklevel=2)
                continue
            dists[ep.name] = dist
    for plugin in extra_plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    return Registry(pm, dists)


_default: Registry | None = None


def registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _default
    if _default is None:
        _default = load_plugins()
    return _default


def create_model(name: str, n_classes: int, n_in: int, **options):
    """Build architecture `name` (timm-style one way in)."""
    arch = registry().get("architecture", name)
    try:
        return arch.load()(n_classes, n_in, **options)
    except (TypeError, ValueError) as exc:
        raise FashionsegError(f"architecture {name!r} rejected its options {options}: {exc}") from exc


def list_components(kind: str, pattern: str = "*", task: str | None = None) -> list[str]:
    return registry().names(kind, pattern, task)


__all__ = ["Architecture", "ArchitectureProvider", "Dataset", "Metric", "Registry", "Task", "registry", "create_model", "list_components"]
