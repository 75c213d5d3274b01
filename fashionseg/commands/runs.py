"""`fashionseg runs [RUNS_DIR] [--json]`: the run folders, each with its state and last scores."""
import os
from pathlib import Path

HEADER = ["name", "recipe", "state", "epochs", "valid loss", "metric", "started", "folder"]


def add_parser(sub):
    p = sub.add_parser("runs", help="list run folders: state (running, finished, failed, interrupted, died), "
                                    "epochs done, last validation scores")
    p.add_argument("runs_dir", nargs="?", metavar="RUNS_DIR",
                   help="folder holding the runs (default: ./runs or $FASHIONSEG_RUNS)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=list_runs)


def list_runs(args):
    """A rich table in a terminal; tab-separated rows (header first) when piped; JSON with --json."""
    import json
    import sys

    from fashionseg.errors import FashionsegError
    from fashionseg.run_folders.state import run_folders

    runs_dir = Path(args.runs_dir or os.environ.get("FASHIONSEG_RUNS", "runs"))
    if not runs_dir.is_dir():
        raise FashionsegError(f"no runs folder at {runs_dir}; pass one (fashionseg runs PATH) or set FASHIONSEG_RUNS")
    runs = [summary(runs_dir, folder) for folder in run_folders(runs_dir)]
    if args.json:
        print(json.dumps(runs, indent=1))
    elif sys.stdout.isatty():
        print_table(runs, runs_dir)
    else:
        for cells in [HEADER, *map(cells_of, runs)]:
            print("\t".join(cells))


def summary(runs_dir: Path, folder: Path) -> dict:
    """One run as `--json` prints it: names, state, epochs done and planned, the last epoch's validation
    loss and first metric (files it cannot read count as empty: a listing shows every run)."""
    from fashionseg.run_folders.summary import RunSummary

    run = RunSummary.read(folder, strict=False)
    return {"name": str(folder.relative_to(runs_dir)), "recipe": run.recipe, "state": run.state,
            "epochs_done": run.epochs_done, "epochs": run.epochs, "valid_loss": run.valid_loss, "metric": run.metric,
            "metric_value": run.last_epoch.get(run.metric), "started": run.started, "folder": str(folder)}


def cells_of(run: dict) -> list[str]:
    """The row under HEADER."""
    metric = f"{run['metric']} {_number(run['metric_value'])}" if run["metric"] else "-"
    started = run["started"][:16].replace("T", " ") if run["started"] else "-"
    return [run["name"], run["recipe"] or "-", run["state"], f"{run['epochs_done']}/{run['epochs'] or '?'}",
            _number(run["valid_loss"]), metric, started, run["folder"]]


def print_table(runs: list[dict], runs_dir: Path):
    """The rows under HEADER less the folder (the title names it). A narrow terminal wraps the
    recipe, metric and start first; names are never broken."""
    from rich.table import Table

    from fashionseg.utils.console import console as make_console

    colours = {"running": "cyan", "finished": "green", "failed": "red", "died": "red", "interrupted": "yellow"}
    table = Table(title=f"runs in {runs_dir}", title_justify="left")
    for col in HEADER[:-1]:
        table.add_column(col, no_wrap=col in ("name", "state", "epochs", "valid loss"),
                         overflow="fold" if col == "recipe" else "ellipsis",
                         min_width=max((len(r["name"]) for r in runs), default=4) if col == "name" else None,
                         justify="right" if col in ("epochs", "valid loss") else "left")
    for run in runs:
        cells = cells_of(run)[:-1]
        table.add_row(*cells[:2], f"[{colours.get(run['state'], 'white')}]{run['state']}[/]", *cells[3:])
    make_console().print(table)


def _number(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else "-" if v is None else str(v)
