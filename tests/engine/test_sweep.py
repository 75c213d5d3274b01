"""Ablation sweeps: the grid, one run per variant, the table, and resuming."""
import csv
import json

import pytest
from rich.console import Console

from fashionseg import FashionsegError
from fashionseg.cli import main
from fashionseg.engine.sweep import HOLD_OUT, ablation_rows, grid, parse_axes, run_sweep, split_values


def test_values_split_on_commas_outside_brackets():
    assert split_values("basenet,basenet-improved") == ["basenet", "basenet-improved"]
    assert split_values("[16,32],(8, 8),x") == ["[16,32]", "(8, 8)", "x"]
    assert parse_axes(["lr=1e-3,1e-4", "arch=a"]) == {"lr": ["1e-3", "1e-4"], "arch": ["a"]}
    with pytest.raises(FashionsegError, match="KEY=VALUE"):
        parse_axes(["lr"])


def test_grid_is_every_combination_named_by_what_varies(make_tiny_recipe):
    variants = grid(make_tiny_recipe(), parse_axes(["lr=1e-3,1e-2", "bs=32,64", "epochs=1"]))
    assert [(v.recipe.lr, v.recipe.bs, v.recipe.epochs) for v in variants] == \
        [(1e-3, 32, 1), (1e-3, 64, 1), (1e-2, 32, 1), (1e-2, 64, 1)]
    assert variants[1].label == "lr=1e-3 bs=64" and variants[1].recipe.name == "tiny-cam-lr=1e-3_bs=64"
    with pytest.raises(FashionsegError, match="at least one --set"):
        grid(make_tiny_recipe(), {})


@pytest.mark.slow
def test_a_sweep_runs_its_grid_and_resumes_without_repeating_finished_runs(make_tiny_recipe, fashion_mnist_dir, tmp_path):
    base = make_tiny_recipe(epochs=1, limit=256, keep_best=0,
                       data_options={"path": str(fashion_mnist_dir)}, eval_limit=128)
    axes = parse_axes(["lr=1e-2,3e-3"])
    sweep_dir = tmp_path / "sweep"
    first = run_sweep(base, axes, sweep_dir, Console(quiet=True))
    assert [v.state for v in first] == ["finished", "finished"]
    with open(sweep_dir / "ablation.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["lr"] for r in rows] == ["1e-2", "3e-3"]
    for row, variant in zip(rows, first):
        metrics = json.loads((variant.run / "metrics.json").read_text())
        assert row["run"] == variant.run.name and float(row["accuracy"]) == pytest.approx(metrics["accuracy"])
    # the losses and the recipe's metrics; the task's further scores stay in each run's metrics.json
    assert "| lr | test_loss | accuracy | rank (test_loss) | run |" in (sweep_dir / "ablation.md").read_text()
    assert "macro_f1" in metrics and "macro_f1" not in rows[0]
    assert "Ranked on the TEST set (valid='test'): picking a variant from this table picks on the test set" in \
        (sweep_dir / "ablation.md").read_text()

    interrupted = first[1].run  # as if the sweep had been stopped during its second run
    (interrupted / "status.json").write_text(json.dumps({"state": "interrupted"}))
    weights_before = (first[0].run / "model.pth").stat().st_mtime_ns
    again = run_sweep(base, axes, sweep_dir, Console(quiet=True))
    assert again[0].state.startswith("skipped") and again[0].run == first[0].run
    assert (first[0].run / "model.pth").stat().st_mtime_ns == weights_before
    assert again[1].state == "finished" and again[1].run != interrupted
    assert len(list(sweep_dir.glob("tiny-cam-*/config.json"))) == 3
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    assert [v["run"] for v in summary["variants"]] == [first[0].run.name, again[1].run.name]


def test_sweep_command_rejects_unknown_names_before_training(tmp_path, capsys):
    code = main(["sweep", "seed000", "--set", "arch=basenet,basenett", "--runs-dir", str(tmp_path)])
    assert code == 2 and "did you mean 'basenet'" in capsys.readouterr().err.lower()
    assert not list(tmp_path.rglob("config.json"))


def test_the_ablation_table_ranks_on_the_hold_out_and_says_so(make_tiny_recipe):
    on_test = grid(make_tiny_recipe(), parse_axes(["lr=1e-3,1e-2,1e-1"]))
    on_hold_out = grid(make_tiny_recipe(valid=HOLD_OUT), parse_axes(["lr=1e-3,1e-2,1e-1"]))
    scores = [{"test_loss": 0.2, "valid_loss": 0.9}, {"test_loss": 0.5, "valid_loss": 0.3}, {"valid_loss": 0.6}]
    for variants in (on_test, on_hold_out):
        for v, metrics in zip(variants, scores):
            v.metrics = metrics
    header, rows = ablation_rows(on_hold_out)
    assert header == ["lr", "test_loss", "valid_loss", "rank (valid_loss)", "run"]
    assert [r[3] for r in rows] == [3, 1, 2]  # by the hold-out's loss, not the test set's
    header, rows = ablation_rows(on_test)
    assert header[3] == "rank (test_loss)" and [r[3] for r in rows] == [1, 2, "-"]


def test_sweep_hold_out_validates_every_variant_on_training_items(monkeypatch, tmp_path, capsys):
    seen = {}

    def run_sweep(base, axes, sweep_dir, console):  # what the sweep would train, without training it
        seen["valid"] = base.valid
        return []

    monkeypatch.setattr("fashionseg.engine.sweep.run_sweep", run_sweep)
    monkeypatch.setattr("fashionseg.engine.sweep.ablation_table", lambda base, variants: "")
    assert main(["sweep", "seed000", "--set", "lr=1e-3,1e-2", "--runs-dir", str(tmp_path)]) == 0
    assert seen.pop("valid") == "test" and "this sweep ranks on the TEST set" in capsys.readouterr().out
    assert main(["sweep", "seed000", "--set", "lr=1e-3,1e-2", "--hold-out", "--runs-dir", str(tmp_path)]) == 0
    assert seen.pop("valid") == HOLD_OUT and "warning" not in capsys.readouterr().out
