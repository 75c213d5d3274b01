"""`fashionseg list [tasks|architectures|metrics|datasets|recipes] [PATTERN]`: rich tables in a
terminal; one tab-separated row per name (or `--json`) when the output goes to a file or a pipe."""
import fnmatch
import json
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from fashionseg.errors import FashionsegError
from fashionseg.utils.console import console as make_console

KINDS = {"tasks": "task", "architectures": "architecture", "metrics": "metric", "datasets": "dataset"}
LISTABLE = {**KINDS, "recipes": "recipe"}
COLUMNS = ("kind", "name", "task", "plugin", "description")
RECIPE_COLUMNS = ("name", "task", "arch", "dataset", "description")
NO_WRAP = {"name", "task", "plugin", "arch", "dataset"}  # names are never broken across lines


def add_parser(sub):
    p = sub.add_parser("list", help="list registered components with their task, plugin and description")
    p.add_argument("what", nargs="?", default="all", help=f"{', '.join(KINDS)}, recipes or all (default all)")
    p.add_argument("pattern", nargs="?", default="*", help="wildcard filter on names, e.g. 'resnet*'")
    p.add_argument("--task", help="only components for this task (see `fashionseg list tasks`)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows instead of tables")
    p.set_defaults(func=list_components)


def list_components(args):
    if args.what not in [*LISTABLE, "all"]:
        raise FashionsegError(f"cannot list {args.what!r}; choose one of {', '.join(LISTABLE)} or all")
    listed = list(LISTABLE) if args.what == "all" else [args.what]
    rows = [row for plural in listed for row in
            (recipe_rows(args.pattern, args.task) if plural == "recipes" else
             component_rows(KINDS[plural], args.pattern, args.task))]
    console = make_console()
    if args.json:
        print(json.dumps(rows, indent=1))
    elif not console.is_terminal:
        for row in rows:
            print("\t".join(" ".join(str(row[c] or "-").split()) for c in COLUMNS))
    else:
        for plural in listed:
            console.print(table(plural, [r for r in rows if r["kind"] == LISTABLE[plural]]))


def component_rows(kind: str, pattern: str, task) -> list[dict]:
    from fashionseg.registry.plugins import registry

    reg, rows = registry(), []
    for name in reg.names(kind, pattern, task):
        c = reg.get(kind, name)
        row = {"kind": kind, "name": name, "task": c.task, "plugin": c.plugin, "description": c.description}
        rows.append({**row, "stage": c.stage} if kind == "metric" else row)
    return rows


def recipe_rows(pattern: str, task) -> list[dict]:
    """One row per recipe; a recipe that fails to load shows its error as its description."""
    from fashionseg.registry.plugins import registry
    from fashionseg.registry.recipes import all_recipes

    rows = []
    for name, source in sorted(all_recipes().items()):
        if not fnmatch.fnmatch(name, pattern):
            continue
        row = {"kind": "recipe", "name": name, "plugin": source.plugin,
               "source": shown_path(source.path) if source.path else f"plugin {source.plugin}"}
        try:
            r = source.load()
            row.update(task=registry().get("dataset", r.dataset).task, arch=r.arch, dataset=r.dataset,
                       description=r.description)
        except FashionsegError as exc:
            row.update(task="?", arch="?", dataset="?", description=f"error: {exc}", error=True)
        if not task or row["task"] == task:
            rows.append(row)
    return rows


def shown_path(path) -> str:
    """A recipe file's path, relative to the working folder when it lies inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def table(plural: str, rows: list[dict]) -> Table:
    columns = RECIPE_COLUMNS if plural == "recipes" else COLUMNS[1:]
    t = Table(title=plural, title_justify="left")
    for col in columns:
        t.add_column(col, no_wrap=col in NO_WRAP, overflow="fold")
    for row in rows:
        cells = {c: escape(str(row[c] or "-")) for c in columns}
        cells["task"] += f" [dim]({row['stage']})[/]" if "stage" in row else ""
        cells["description"] += f"\n[dim]{escape(row['source'])}[/]" if "source" in row else ""
        t.add_row(*cells.values(), style="red" if row.get("error") else None)
    return t
