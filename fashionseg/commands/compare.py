"""`fashionseg compare RUN... [--metrics a,b] [--sort METRIC] [--csv FILE] [--md FILE]`: runs side by side."""


def add_parser(sub):
    p = sub.add_parser("compare", help="compare runs: their state, test metrics and the settings that differ",
                       description="One table of runs: state, final test metrics (default: of those every finished "
                                   "run has, the losses and the ones the recipes chose; --metrics all for every "
                                   "one) and the settings that differ between the runs; settings they share are "
                                   "listed once beneath. Failed, interrupted or running runs show empty metrics.")
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="run folders, folders of runs (runs/, a sweep's folder) or quoted globs such as "
                        "'runs/fashion-*' (a glob's matches that are not runs are passed over)")
    p.add_argument("--metrics", help="the metrics to show, comma-separated, e.g. accuracy,test_loss; 'all' for every "
                                     "one the runs share (default: the losses and the metrics the recipes chose)")
    p.add_argument("--sort", metavar="METRIC", help="order by this metric, best first (lower for losses and "
                                                    "errors, higher for the rest)")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.add_argument("--md", metavar="FILE", help="also write the table (and the shared settings) as markdown")
    p.set_defaults(func=compare_command)


def compare_command(args):
    from pathlib import Path

    from rich.markup import escape

    from fashionseg.report.compare import compare, find_runs
    from fashionseg.report.tables import runs_table
    from fashionseg.run_folders.summary import RunSummary
    from fashionseg.utils.console import console as make_console
    from fashionseg.utils.files import atomic_write, csv_text

    runs = [RunSummary.read(folder) for folder in find_runs(args.runs)]
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    table = compare(runs, metrics, args.sort)
    console = make_console()
    title = f"Comparing {len(runs)} runs"
    console.print(runs_table(title, table.header, table.rows))
    if table.same:
        console.print("same in every run: " + escape(", ".join(table.shared())), highlight=False)
    if args.csv:
        atomic_write(Path(args.csv), csv_text(table.header, table.rows))
        console.print(f"CSV: {escape(args.csv)}", highlight=False)
    if args.md:
        atomic_write(Path(args.md), table.markdown(title))
        console.print(f"markdown: {escape(args.md)}", highlight=False)
