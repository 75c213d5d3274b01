"""`fashionseg compare`: run folders written through RunFolder (no training), compared in a table, CSV and
markdown: chosen and common metrics, differing and shared settings, states, globs, sorting, errors."""
import csv
import json
import subprocess
import sys
import time

import pytest

from fashionseg.cli import main
from fashionseg.recipe.schema import Recipe
from fashionseg.run_folders.folder import RunFolder


def make_run(runs_dir, name="fashion-fast", state="finished", metrics=None, **settings):
    """A run folder as the runner leaves it: config.json, status.json and (finished) metrics.json."""
    recipe = Recipe(name=name, dataset="fashion-mnist", arch="basenet", metrics=["accuracy"], **settings)
    run = RunFolder.create(runs_dir, name)
    run.write_json("config.json", recipe.to_dict())
    if metrics is not None:
        run.write_json("metrics.json", {**metrics, "timings": {"train_seconds": 1.0}, "per_class": {"Bag": 0.9}})
    run.status(state, **({"error": "boom"} if state == "failed" else {}))
    time.sleep(0.01)
    return run.path


@pytest.fixture
def runs(tmp_path):
    """Three finished runs differing in lr (and one in bs), one failed run."""
    d = tmp_path / "runs"
    made = [make_run(d, lr=1e-3, metrics={"test_loss": 0.40, "accuracy": 0.90, "iou": 0.5}),
            make_run(d, lr=1e-2, metrics={"test_loss": 0.30, "accuracy": 0.92}),
            make_run(d, lr=3e-4, bs=64, metrics={"test_loss": 0.50, "accuracy": 0.88}),
            make_run(d, lr=1e-1, state="failed")]
    return d, made


def compare(capsys, *argv) -> tuple[int, str, str]:
    code = main(["compare", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_table_has_common_metrics_differing_settings_and_states(runs, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    d, made = runs
    code, out, err = compare(capsys, *made, "--csv", tmp_path / "c.csv", "--md", tmp_path / "c.md")
    assert code == 0, err
    rows = read_csv(tmp_path / "c.csv")
    assert list(rows[0]) == ["run", "state", "test_loss", "accuracy", "lr", "bs"]  # iou: not every run has it
    assert [(r["run"], r["state"], r["accuracy"], r["lr"], r["bs"]) for r in rows] == [
        (made[0].name, "finished", "0.9", "0.001", "128"), (made[1].name, "finished", "0.92", "0.01", "128"),
        (made[2].name, "finished", "0.88", "0.0003", "64"), (made[3].name, "failed", "", "0.1", "128")]
    md = (tmp_path / "c.md").read_text()
    assert "| run | state | test_loss | accuracy | lr | bs |" in md
    assert f"| {made[3].name} | failed | - | - | 0.1 | 128 |" in md
    assert "`arch=basenet`" in md and "`epochs=5`" in md and "lr=" not in md.split("Same in every run")[1]
    assert "same in every run: dataset=fashion-mnist, arch=basenet, metrics=accuracy" in out
    assert made[3].name in out and "failed" in out and "0.9200" in out


def test_chosen_metrics_sorting_and_globs(runs, capsys, tmp_path):
    d, made = runs
    code, _, err = compare(capsys, f"{d}/fashion-*", "--metrics", "accuracy", "--sort", "test_loss",
                           "--csv", tmp_path / "s.csv")
    assert code == 0, err
    rows = read_csv(tmp_path / "s.csv")
    assert list(rows[0])[:4] == ["run", "state", "accuracy", "test_loss"]  # the sort metric is shown too
    assert [r["test_loss"] for r in rows] == ["0.3", "0.4", "0.5", ""]  # lowest loss first, no metric last
    assert compare(capsys, d, "--sort", "accuracy", "--csv", tmp_path / "a.csv")[0] == 0  # a folder of runs
    assert [r["accuracy"] for r in read_csv(tmp_path / "a.csv")] == ["0.92", "0.9", "0.88", ""]  # highest first


def test_by_default_the_losses_and_the_recipes_metrics_all_shows_every_score(tmp_path, capsys):
    """A classification run records a dozen scores; the table shows what the recipe chose, `--metrics all` the rest."""
    scores = {"test_loss": 0.3, "accuracy": 0.9, "macro_f1": 0.88, "balanced_accuracy": 0.89, "ece": 0.02}
    d = tmp_path / "runs"
    for lr in (1e-3, 1e-2):
        make_run(d, lr=lr, metrics=scores)
    code, out, _ = compare(capsys, d, "--csv", tmp_path / "default.csv")
    with open(tmp_path / "default.csv") as f:
        header = next(csv.reader(f))
    assert code == 0 and header[:4] == ["run", "state", "test_loss", "accuracy"] and "macro_f1" not in header
    code, out, _ = compare(capsys, d, "--metrics", "all", "--csv", tmp_path / "all.csv")
    with open(tmp_path / "all.csv") as f:
        header = next(csv.reader(f))
    assert code == 0 and header[2:7] == list(scores)


def test_runs_from_different_recipes_show_what_differs(tmp_path, capsys):
    d = tmp_path / "runs"
    a = make_run(d, name="fashion-fast", metrics={"accuracy": 0.9})
    b = make_run(d, name="fashion-best", epochs=20, metrics={"accuracy": 0.93})
    code, _, err = compare(capsys, a, b, "--csv", tmp_path / "c.csv")
    assert code == 0, err
    assert read_csv(tmp_path / "c.csv") == [{"run": a.name, "state": "finished", "accuracy": "0.9", "epochs": "5"},
                                            {"run": b.name, "state": "finished", "accuracy": "0.93", "epochs": "20"}]


@pytest.mark.parametrize("argv, message", [
    (["{d}/nothing-*"], "error: no runs matched {d}/nothing-*; pass run folders or a glob such as 'runs/fashion-*'"),
    (["{d}/missing"], "error: {d}/missing does not exist; pass run folders"),
    (["{d}/../empty"], "is not a run folder (no config.json)"),
    (["{d}", "--metrics", "accuracy,dice"], "error: no run has metric 'dice'; the runs have: test_loss, accuracy, iou"),
    (["{d}", "--sort", "dice"], "error: no run has metric 'dice'"),
    (["{d}", "--csv", "{d}"], "is a folder; name a file instead"),
])
def test_mistakes_are_one_line_errors(runs, capsys, tmp_path, argv, message):
    d, _ = runs
    (tmp_path / "empty").mkdir()
    code, out, err = compare(capsys, *(a.format(d=d) for a in argv))
    assert code == 2 and message.format(d=d) in err and len(err.strip().splitlines()) == 1


@pytest.mark.subprocess
def test_a_running_run_has_no_metrics_and_comparing_imports_no_torch(tmp_path, capsys):
    d = tmp_path / "runs"
    live = make_run(d, state="running")
    code, _, err = compare(capsys, live, "--csv", tmp_path / "c.csv")
    assert code == 0, err
    assert read_csv(tmp_path / "c.csv") == [{"run": live.name, "state": "running"}]
    probe = (f"import sys\nfrom fashionseg.cli import main\nassert main(['compare', {str(live)!r}]) == 0\n"
             "print(sorted(m for m in ('torch', 'fastai') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "[]", done.stderr


def test_a_run_from_an_older_version_differs_only_in_what_it_set(tmp_path, capsys):
    d = tmp_path / "runs"
    new = make_run(d, metrics={"accuracy": 0.9}, track=["tensorboard"])
    old = make_run(d, metrics={"accuracy": 0.8})
    config = json.loads((old / "config.json").read_text())
    del config["track"], config["experiment"]
    (old / "config.json").write_text(json.dumps({**config, "tensorboard": False}))
    code, _, err = compare(capsys, new, old, "--csv", tmp_path / "c.csv")
    assert code == 0, err
    assert [(r["run"], r["track"]) for r in read_csv(tmp_path / "c.csv")] == [(new.name, "tensorboard"), (old.name, "[]")]
    assert list(read_csv(tmp_path / "c.csv")[0]) == ["run", "state", "accuracy", "track"]
