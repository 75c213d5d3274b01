"""`fashionseg evaluate <run> [--ensemble K]`: test metrics of a run's weights, and of the
ensemble of its K best checkpoints against the single best."""
from rich.console import Console
from rich.table import Table


def add_parser(sub):
    p = sub.add_parser("evaluate", help="test metrics of a run; --ensemble K adds its K best checkpoints averaged")
    p.add_argument("run", help="a run folder")
    p.add_argument("--ensemble", type=int, metavar="K",
                   help="also evaluate the best checkpoint and the average of the K best (kept during training)")
    p.set_defaults(func=evaluate_run)


def evaluate_run(args):
    from ..analysis.loaded_run import load_run
    from ..analysis.sections import set_report_section, update_metrics
    from ..ensemble import compare_with_ensemble
    from ..report import markdown_table

    console = Console()
    loaded = load_run(args.run)
    with console.status("evaluating on the test set"):
        rows = compare_with_ensemble(loaded, args.ensemble)
    columns = list(dict.fromkeys(k for scores in rows.values() for k in scores))
    table = Table(title=f"Test set: {loaded.run.path.name}", title_justify="left")
    table.add_column("weights")
    for col in columns:
        table.add_column(col, justify="right")
    for name, scores in rows.items():
        table.add_row(name, *(f"{scores[c]:.4f}" if c in scores else "-" for c in columns))
    console.print(table)
    if not args.ensemble:
        return
    record = update_metrics(loaded.run, "ensemble", {"k": args.ensemble, "results": rows})
    lines = ["## Best-epoch ensembles", "",
             "Softmax outputs of the checkpoints with the lowest validation loss, averaged.", "",
             *markdown_table(["weights", *columns], [[n, *(s.get(c, "-") for c in columns)]
                                                     for n, s in record["results"].items()])]
    set_report_section(loaded.run, "ensemble", "\n".join(lines))
