"""Checkpoint overhead: the time writing `last.pth` adds to each epoch (model, optimizer, RNG
states; see fashionseg/callbacks/checkpoints.py), beside the epoch's own time and the file's size.

Each recipe trains with its own settings (less `--epochs` and any `--set`); `LastCheckpoint.save`
is timed where it runs, before the first epoch and after each. Target: under 1% of an epoch.

Run: python bench/checkpoint_overhead.py [--recipes fashion-fast facade-fast] [--epochs 3] [--set limit=2000]
"""
import argparse
import tempfile
import time

from rich.console import Console
from rich.table import Table

from fashionseg.callbacks.checkpoints import LAST, LastCheckpoint
from fashionseg.engine.trainer import run
from fashionseg.registry.recipes import find_recipe

SAVES: list[tuple[float, int]] = []  # (seconds, bytes) of each last.pth written
_save = LastCheckpoint.save


def timed_save(self, epochs_done):
    start = time.perf_counter()
    _save(self, epochs_done)
    SAVES.append((time.perf_counter() - start, (self.folder.path / LAST).stat().st_size))


def measure(name: str, epochs: int, changes: dict) -> list[str]:
    """One row: recipe, seconds per epoch, milliseconds per save, their ratio, MB per last.pth."""
    SAVES.clear()
    recipe = find_recipe(name).override(epochs=epochs, **changes)
    with tempfile.TemporaryDirectory() as runs:
        rows = run(recipe, runs_dir=runs, console=Console(quiet=True)).run.read_csv("metrics.csv")
    epoch = rows[-1]["elapsed_seconds"] / len(rows)
    save = sum(s for s, _ in SAVES) / len(SAVES)
    return [name, f"{epoch:.2f}", f"{save * 1000:.1f}", f"{100 * save / epoch:.2f}%", f"{SAVES[-1][1] / 1e6:.2f}"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["fashion-fast", "facade-fast"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    LastCheckpoint.save = timed_save
    changes = dict(item.split("=", 1) for item in args.set)
    table = Table(title="last.pth overhead per epoch")
    for col in ("recipe", "epoch s", "save ms", "save / epoch", "last.pth MB"):
        table.add_column(col, justify="left" if col == "recipe" else "right")
    for name in args.recipes:
        table.add_row(*measure(name, args.epochs, changes))
    Console().print(table)


if __name__ == "__main__":
    main()
