"""`fashionseg plugins`: installed plugins, their versions and the hooks each implements."""
from rich.table import Table

from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("plugins", help="list installed plugins and the hooks each implements")
    p.set_defaults(func=list_plugins)


def list_plugins(args):
    from fashionseg.registry.plugins import registry

    table = Table(title="plugins", title_justify="left")
    for col in ("plugin", "package", "version", "hooks"):
        table.add_column(col)
    for info in registry().plugins():
        table.add_row(info.name, info.package, info.version, ", ".join(info.hooks))
    make_console().print(table)
