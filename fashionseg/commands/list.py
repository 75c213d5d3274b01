"""`fashionseg list [architectures|metrics|datasets|recipes]`."""
from rich.console import Console
from rich.table import Table

from ..errors import FashionsegError

KINDS = {"architectures": "architecture", "metrics": "metric", "datasets": "dataset"}


def add_parser(sub):
    p = sub.add_parser("list", help="list registered components with their task, plugin and description")
    p.add_argument("what", nargs="?", default="all", help="architectures, metrics, datasets, recipes or all")
    p.add_argument("pattern", nargs="?", default="*", help="wildcard filter on names, e.g. 'resnet*'")
    p.add_argument("--task", choices=["classification", "segmentation"])
    p.set_defaults(func=list_components)


def list_components(args):
    from ..registry import registry

    console = Console()
    valid = [*KINDS, "recipes", "all"]
    if args.what not in valid:
        raise FashionsegError(f"cannot list {args.what!r}; choose one of {', '.join(valid)}")
    kinds = list(KINDS) if args.what == "all" else [args.what] if args.what != "recipes" else []
    reg = registry()
    for plural in kinds:
        kind = KINDS[plural]
        table = Table(title=plural, title_justify="left")
        for col in ("name", "task", "plugin", "description"):
            table.add_column(col, overflow="fold")
        for name in reg.names(kind, args.pattern, args.task):
            c = reg.get(kind, name)
            stage = f" [dim]({c.stage})[/]" if kind == "metric" else ""
            table.add_row(name, c.task + stage, c.plugin, c.description)
        console.print(table)
    if args.what in ("recipes", "all"):
        console.print(recipes_table(args.pattern, args.task))


def recipes_table(pattern, task):
    import fnmatch

    from ..recipe import all_recipes, find_recipe
    from ..registry import registry

    table = Table(title="recipes", title_justify="left")
    for col in ("name", "task", "arch", "dataset", "source", "description"):
        table.add_column(col, overflow="fold")
    for name, source in sorted(all_recipes().items()):
        if not fnmatch.fnmatch(name, pattern):
            continue
        try:
            r = find_recipe(str(source)) if not hasattr(source, "arch") else source
            r_task = registry().get("dataset", r.dataset).task
        except FashionsegError as exc:
            table.add_row(name, "?", "?", "?", str(source), f"[red]{exc}[/]")
            continue
        if task and r_task != task:
            continue
        table.add_row(name, r_task, r.arch, r.dataset, str(source) if not hasattr(source, "arch") else "plugin",
                      r.description)
    return table
