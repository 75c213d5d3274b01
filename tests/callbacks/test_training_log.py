"""Loss and metrics every N iterations, training charts, and TensorBoard event files."""
import json
from types import SimpleNamespace

import pytest
import torch
from fastai.metrics import accuracy, mk_metric

from fashionseg.callbacks.logs import IterationLog
from fashionseg.recipe.schema import Recipe
from fashionseg.run_folders.folder import RunFolder


def test_each_row_averages_its_window_of_iterations(tmp_path):
    run = RunFolder(tmp_path)
    log = IterationLog(run, every=2)
    learn = SimpleNamespace(metrics=[mk_metric(accuracy)], dls=SimpleNamespace(train=range(4)), training=True,
                            opt=SimpleNamespace(hypers=[{"lr": 0.1}]), to_detach=lambda t: t.detach())
    log.learn = learn
    log.before_fit()
    targets = torch.tensor([0, 1])
    right, wrong = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([[0.0, 2.0], [2.0, 0.0]])
    for it, (loss, pred) in enumerate([(1.0, right), (3.0, wrong), (0.5, right), (0.5, right), (7.0, wrong)], 1):
        learn.train_iter, learn.loss, learn.pred, learn.yb = it, torch.tensor(loss), pred, (targets,)
        log.after_batch()
    log.after_fit()
    rows = run.read_csv("iterations.csv")
    assert [(r["iteration"], r["epoch"], r["train_loss"], r["train_accuracy"]) for r in rows] == \
        [(2, 0.5, 2.0, 0.5), (4, 1.0, 0.5, 1.0), (5, 1.25, 7.0, 0.0)]


def test_a_run_logs_every_n_iterations_and_charts_them(tiny_run):
    run = RunFolder(tiny_run)
    rows = run.read_csv("iterations.csv")
    per_epoch = 512 // 64
    assert [r["iteration"] for r in rows] == list(range(3, 3 * per_epoch + 1, 3))
    assert [r["epoch"] for r in rows] == [pytest.approx(r["iteration"] / per_epoch) for r in rows]
    assert all(0 <= r["train_accuracy"] <= 1 and r["train_loss"] > 0 for r in rows)
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert (tiny_run / "figures/training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "](figures/training_curves.png)" in (tiny_run / "report.md").read_text()


def test_tensorboard_event_files_hold_the_losses_and_metrics(tiny_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tiny_run / "tensorboard"))
    events.Reload()
    assert {"train_loss", "valid_loss", "accuracy"} <= set(events.Tags()["scalars"])
    assert sorted({e.step for e in events.Scalars("train_loss")}) == list(range(1, 3 * 8 + 1))
    epochs = RunFolder(tiny_run).read_csv("metrics.csv")
    for tag in ("valid_loss", "accuracy"):
        assert [e.value for e in events.Scalars(tag)] == [pytest.approx(r[tag], rel=1e-5) for r in epochs]


def test_logging_settings_come_from_the_recipe_and_command_line():
    from fashionseg.cli import build_parser
    from fashionseg.commands._options import apply_overrides

    args = build_parser().parse_args(["train", "x", "--log-every", "7", "--keep-best", "3", "--track", "tensorboard"])
    recipe = apply_overrides(Recipe(name="x", dataset="d", arch="a"), args)
    assert (recipe.log_every, recipe.keep_best, recipe.track) == (7, 3, ["tensorboard"])
    assert Recipe(name="x", dataset="d", arch="a", track=["tensorboard"]).override(track="").track == []
    assert json.loads(json.dumps(recipe.to_dict()))["log_every"] == 7
