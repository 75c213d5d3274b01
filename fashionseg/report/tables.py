"""Reports: rich tables on the console and `report.md` in the run folder."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fashionseg.run_folders.summary import scalar_metrics


def per_class_metrics(results: dict) -> dict[str, dict[str, float]]:
    return {k: v for k, v in results.items() if isinstance(v, dict)}


def class_means(per_class: dict[str, dict[str, float]]) -> list[float]:
    """Each per-class metric averaged over the classes that have a value (NaN: class absent); the support
    (items per class) summed instead."""
    means = []
    for name, values in per_class.items():
        if name == "support":
            means.append(sum(values.values()))
            continue
        present = [v for v in values.values() if v == v]
        means.append(sum(present) / len(present) if present else float("nan"))
    return means


def hardest(per_class: dict[str, dict[str, float]], n: int = 3) -> set[str]:
    """The `n` classes with the lowest value of the first per-class metric (none when there are only `n`)."""
    if not per_class:
        return set()
    first = next(iter(per_class.values()))
    if len(first) <= n:
        return set()
    return set(sorted(first, key=lambda c: (first[c] != first[c], first[c]))[:n])


def console_report(console: Console, title: str, results: dict, sections=(), per_class: bool = True):
    """The test metrics, the per-class table (hardest classes marked; when `per_class`) and the task's sections."""
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in scalar_metrics(results).items():
        table.add_row(k, fmt(v))
    console.print(table)
    per_class = per_class_metrics(results) if per_class else {}
    if per_class:
        worst = hardest(per_class)
        t = Table(title="Per class (hardest marked)", title_justify="left")
        t.add_column("class")
        for name in per_class:
            t.add_column(name, justify="right")
        for cls in next(iter(per_class.values())):
            mark = " [bold red]<- hard[/]" if cls in worst else ""
            t.add_row(escape(cls) + mark, *[fmt(per_class[m].get(cls, float("nan"))) for m in per_class])
        t.add_section()
        t.add_row("[bold]mean over classes[/]", *[f"[bold]{fmt(v)}[/]" for v in class_means(per_class)])
        console.print(t)
    for section in sections:
        console.print(section_table(section))


def section_table(section) -> Table:
    """A task's `Section` as a rich table; numbers right-aligned."""
    t = Table(title=section.title, title_justify="left")
    numeric = [all(isinstance(r[i], (int, float)) for r in section.rows) for i in range(len(section.header))]
    for col, right in zip(section.header, numeric):
        t.add_column(col, justify="right" if right else "left")
    for row in section.rows:
        t.add_row(*(escape(fmt(v)) for v in row))
    return t


def runs_table(title: str, header: list[str], rows: list[list]) -> Table:
    """Runs side by side (a sweep's ablation, `fashionseg compare`): numeric columns right-aligned,
    numbers as `fmt` shows them, a missing value (None) as '-'."""
    table = Table(title=escape(title), title_justify="left")
    for i, col in enumerate(header):
        numeric = all(v in (None, "-") or is_number(v) for v in (row[i] for row in rows))
        table.add_column(escape(col), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(escape("-" if v is None else fmt(v)) for v in row))
    return table


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def markdown_report(config: dict, results: dict, figures: list[tuple[str, str]], sections=(),
                    epoch_summary: list[dict] | None = None, timings: dict | None = None,
                    provenance: list[str] | None = None, per_class: bool = True) -> str:
    lines = [f"# Run `{config['name']}`", "", config.get("description", ""), "", "## Configuration", "",
             "| setting | value |", "| --- | --- |"]
    lines += [f"| {k} | `{v}` |" for k, v in config.items() if k != "description"]
    lines += metrics_markdown(results, per_class)
    for section in sections:
        lines += ["", f"## {section.title}", "", *markdown_table(section.header, section.rows)]
    if timings:
        lines += ["", "## Timings", "", *markdown_table(["what", "seconds"], [[k, v] for k, v in timings.items()])]
    if epoch_summary:
        header = list(epoch_summary[0])
        lines += ["", "## Epochs", "", "`elapsed_seconds` is cumulative since training began; `train_seconds` "
                  "counts training phases only (validation excluded), also cumulative.", "",
                  *markdown_table(header, [[r.get(h, "") for h in header] for r in epoch_summary])]
    lines += ["", "## Figures", "", *figure_links(figures)]
    if provenance:
        lines += ["", *provenance]
    return "\n".join(lines) + "\n"


def metrics_markdown(results: dict, per_class: bool = True) -> list[str]:
    """The "Test metrics" and (when `per_class`) "Per class" sections, hardest classes marked, as markdown lines."""
    lines = ["", "## Test metrics", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {fmt(v)} |" for k, v in scalar_metrics(results).items()]
    per_class = per_class_metrics(results) if per_class else {}
    if per_class:
        worst = hardest(per_class)
        lines += ["", "## Per class", "", "| class | " + " | ".join(per_class) + " |",
                  "| --- |" + " ---: |" * len(per_class)]
        for cls in next(iter(per_class.values())):
            label = f"**{cls}** (hard)" if cls in worst else cls
            values = (fmt(per_class[m].get(cls, float("nan"))) for m in per_class)
            lines.append(f"| {label} | " + " | ".join(values) + " |")
        lines.append("| **mean over classes** | " + " | ".join(f"**{fmt(v)}**" for v in class_means(per_class)) + " |")
    return lines


def figure_links(figures) -> list[str]:
    """Markdown that shows each `(title, path)` figure under its own heading."""
    lines = []
    for title, path in figures:
        lines += [f"### {title}", "", f"![{title}]({path})", ""]
    return lines


def markdown_table(header: list[str], rows: list[list]) -> list[str]:
    """Lines of a markdown table; floats with four decimals, None as '-'."""
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *["| " + " | ".join("-" if v is None else fmt(v) for v in row) + " |" for row in rows]]


def fmt(v) -> str:
    """A number as a report shows it: four decimals, or scientific notation for small values such
    as learning rates (3e-05, never 0.0000)."""
    if isinstance(v, bool) or not isinstance(v, float):
        return str(v)
    if v != 0 and abs(v) < 1e-3:
        return f"{v:.3g}"
    return f"{v:.4f}"
