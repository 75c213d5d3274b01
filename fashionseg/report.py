"""Reports: rich tables on the console and `report.md` in the run folder."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table


def scalar_metrics(results: dict) -> dict[str, float]:
    return {k: v for k, v in results.items() if isinstance(v, (int, float))}


def per_class_metrics(results: dict) -> dict[str, dict[str, float]]:
    return {k: v for k, v in results.items() if isinstance(v, dict)}


def class_means(per_class: dict[str, dict[str, float]]) -> list[float]:
    """Each per-class metric averaged over the classes that have a value (NaN: class absent)."""
    means = []
    for values in per_class.values():
        present = [v for v in values.values() if v == v]
        means.append(sum(present) / len(present) if present else float("nan"))
    return means


def hardest(per_class: dict[str, dict[str, float]], n: int = 3) -> set[str]:
    """The `n` classes with the lowest value of the first per-class metric."""
    if not per_class:
        return set()
    first = next(iter(per_class.values()))
    return set(sorted(first, key=first.get)[:n])


def console_report(console: Console, title: str, results: dict, extras: dict | None = None):
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in scalar_metrics(results).items():
        table.add_row(k, f"{v:.4f}")
    console.print(table)
    per_class = per_class_metrics(results)
    if per_class:
        worst = hardest(per_class)
        t = Table(title="Per class (hardest marked)", title_justify="left")
        t.add_column("class")
        for name in per_class:
            t.add_column(name, justify="right")
        for cls in next(iter(per_class.values())):
            mark = " [bold red]<- hard[/]" if cls in worst else ""
            t.add_row(cls + mark, *[f"{per_class[m][cls]:.4f}" for m in per_class])
        t.add_section()
        t.add_row("[bold]mean over classes[/]", *[f"[bold]{v:.4f}[/]" for v in class_means(per_class)])
        console.print(t)
    confusions = (extras or {}).get("confusions")
    if confusions:
        t = Table(title="Most frequent confusions", title_justify="left")
        for col in ("true", "predicted as", "count"):
            t.add_column(col, justify="right" if col == "count" else "left")
        for true, pred, count in confusions:
            t.add_row(true, pred, str(count))
        console.print(t)


def markdown_report(config: dict, results: dict, figures: list[tuple[str, str]], extras: dict | None = None,
                    epoch_summary: list[dict] | None = None) -> str:
    lines = [f"# Run `{config['name']}`", "", config.get("description", ""), "", "## Configuration", "",
             "| setting | value |", "| --- | --- |"]
    lines += [f"| {k} | `{v}` |" for k, v in config.items() if k != "description"]
    lines += ["", "## Test metrics", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {v:.4f} |" for k, v in scalar_metrics(results).items()]
    per_class = per_class_metrics(results)
    if per_class:
        worst = hardest(per_class)
        lines += ["", "## Per class", "", "| class | " + " | ".join(per_class) + " |",
                  "| --- |" + " ---: |" * len(per_class)]
        for cls in next(iter(per_class.values())):
            label = f"**{cls}** (hard)" if cls in worst else cls
            lines.append(f"| {label} | " + " | ".join(f"{per_class[m][cls]:.4f}" for m in per_class) + " |")
        lines.append("| **mean over classes** | " + " | ".join(f"**{v:.4f}**" for v in class_means(per_class)) + " |")
    confusions = (extras or {}).get("confusions")
    if confusions:
        lines += ["", "## Most frequent confusions", "", "| true | predicted as | count |", "| --- | --- | ---: |"]
        lines += [f"| {t} | {p} | {c} |" for t, p, c in confusions]
    if epoch_summary:
        header = list(epoch_summary[0])
        lines += ["", "## Epochs", "", *markdown_table(header, [[r.get(h, "") for h in header] for r in epoch_summary])]
    lines += ["", "## Figures", "", *figure_links(figures)]
    return "\n".join(lines) + "\n"


def figure_links(figures) -> list[str]:
    """Markdown that shows each `(title, path)` figure under its own heading."""
    lines = []
    for title, path in figures:
        lines += [f"### {title}", "", f"![{title}]({path})", ""]
    return lines


def markdown_table(header: list[str], rows: list[list]) -> list[str]:
    """Lines of a markdown table; floats with four decimals."""
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]]


def _cell(v):
    return f"{v:.4f}" if isinstance(v, float) else str(v)
