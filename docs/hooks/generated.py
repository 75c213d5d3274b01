"""MkDocs hook: reference tables generated from the source, read statically (nothing is imported, no torch).

- `<!-- recipe-settings -->`: one row per `Recipe` field of `fashionseg/recipe/schema.py` (name, type,
  default, command-line option, help), from the field's `setting(...)`: the source `fashionseg train --help`
  is generated from.
- `<!-- plugin-api-names -->`: every name `fashionseg/plugin.py` offers (its imports, `LAZY` and `MODULES`),
  grouped by the comment above it, with the module that defines it.
- `<!-- plugin-api-blocks -->`: a mkdocstrings block for each of the lazily imported building blocks, so
  their signatures and docstrings appear on the plugin API page.
"""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "fashionseg" / "recipe" / "schema.py"
PLUGIN = ROOT / "fashionseg" / "plugin.py"
# Documented elsewhere on the page, or not fashionseg's own (matplotlib's pyplot).
NO_BLOCK = {"Data", "DataRequest", "plt"}


def recipe_settings() -> list[dict]:
    tree = ast.parse(SCHEMA.read_text())
    (recipe,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Recipe"]
    rows = []
    for node in recipe.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "") == "setting"):
            continue
        call = node.value
        keywords = {k.arg: k.value for k in call.keywords}
        default = call.args[1] if len(call.args) > 1 else keywords.get("default")
        option = keywords.get("option")
        rows.append({
            "name": node.target.id,
            "type": ast.unparse(node.annotation),
            "default": None if default is None else ast.unparse(default),
            "option": option is None or ast.literal_eval(option),
            "help": ast.literal_eval(call.args[0] if call.args else keywords["help"]),
        })
    return rows


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def recipe_table() -> str:
    lines = ["| setting | type | default | command line | meaning |", "| --- | --- | --- | --- | --- |"]
    for row in recipe_settings():
        flag = f"`--{row['name'].replace('_', '-')}`" if row["option"] else "(recipe only)"
        default = "(required)" if row["default"] is None else f"`{row['default']}`"
        lines.append(f"| `{row['name']}` | `{row['type']}` | {default} | {flag} | {cell(row['help'])} |")
    return "\n".join(lines)


def plugin_names() -> list[tuple[str, str, str]]:
    """(group, name, module) for every name of the plugin API, in the order plugin.py gives them; a
    group is the comment line above the name (or above its table)."""
    source = PLUGIN.read_text()
    lines = source.splitlines()

    def comment_above(lineno: int, stop: int) -> str | None:
        for text in reversed(lines[stop:lineno - 1]):
            if text.strip().startswith("#"):
                return text.strip().lstrip("# ").split(":")[0]
        return None

    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fashionseg"):
            names += [("component types, hook marker, errors (imported at once, no torch)", alias.name, node.module)
                      for alias in node.names]
        elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
              and getattr(node.targets[0], "id", "") in ("LAZY", "MODULES")):
            group, previous = comment_above(node.lineno, node.lineno - 2), node.lineno
            for key, value in zip(node.value.keys, node.value.values):
                group = comment_above(key.lineno, previous) or group
                previous = key.lineno
                module = node.targets[0].id == "MODULES"
                names.append((f"{group} ({'a module, ' if module else ''}imported on first use)", key.value,
                              value.value))
    return names


def plugin_names_table() -> str:
    lines = ["| name | what for | defined in |", "| --- | --- | --- |"]
    for group, name, module in plugin_names():
        lines.append(f"| `{name}` | {cell(group)} | `{module}` |")
    return "\n".join(lines)


def plugin_blocks() -> str:
    blocks = []
    for group, name, module in plugin_names():
        if "first use" in group and name not in NO_BLOCK:
            path = module if "a module" in group else f"{module}.{name}"
            blocks.append(f"::: {path}\n    options:\n      heading_level: 3\n      show_root_full_path: false\n"
                          + ("      members: false\n" if "a module" in group else ""))
    return "\n".join(blocks)


GENERATED = {"<!-- recipe-settings -->": recipe_table, "<!-- plugin-api-names -->": plugin_names_table,
             "<!-- plugin-api-blocks -->": plugin_blocks}


def on_page_markdown(markdown, page, config, files):
    for marker, make in GENERATED.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
