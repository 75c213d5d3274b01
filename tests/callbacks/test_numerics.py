"""Numerical faults and stopping: a non-finite loss fails the run keeping finite weights, early
stopping, the step schedule (also from a start epoch), and bf16 autocast on CPU."""
import json
import math

import pytest
import torch
from fastai.callback.core import Callback

from fashionseg import FashionsegError, Recipe, create_model
from fashionseg.build.learner import build_learner
from fashionseg.cli import main
from fashionseg.engine.trainer import fit, run
from fashionseg.run_folders.folder import RunFolder

SMALL = dict(dataset="fashion-mnist", metrics=["accuracy"], bs=128, limit=1000, eval_limit=500, valid="0.1")


class InjectNaN(Callback):
    """Turns the loss (and so the gradients and weights) into NaN at one training batch."""

    order = 0

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def after_loss(self):
        if self.training and (self.epoch, self.iter) == self.at:
            self.learn.loss_grad = self.loss_grad * float("nan")
            self.learn.loss = self.loss * float("nan")


@pytest.mark.slow
def test_nan_loss_fails_the_run_and_keeps_the_last_finite_epoch(tmp_path, fashion_mnist_dir):
    recipe = Recipe(name="nan", arch="seed000-cnn", epochs=3, lr=1e-3, **SMALL)
    with pytest.raises(FashionsegError, match=r"^training loss became nan at epoch 2, batch 3; .*epoch 1.*--lr$"):
        run(recipe, runs_dir=tmp_path, cbs=[InjectNaN(1, 2)])
    folder = RunFolder(next(tmp_path.iterdir()))
    status = folder.read_json("status.json")
    assert status["state"] == "failed" and status["error"].startswith("training loss became nan at epoch 2, batch 3")
    assert [r["epoch"] for r in folder.read_csv("metrics.csv")] == [0]  # the NaN epoch is not recorded
    model = folder.load_weights(create_model("seed000-cnn", 10, 1))
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    with torch.no_grad():
        assert torch.isfinite(model.eval()(torch.randn(2, 1, 28, 28))).all()


@pytest.mark.slow
def test_diverging_lr_exits_2_with_one_line_through_the_cli(tmp_path, fashion_mnist_dir, capsys):
    # the CLI's main in this process (tests/commands start the train command in new processes)
    code = main(["train", "seed000", "--arch", "basenet", "--opt", "sgd", "--lr", "1e6", "--limit", "1000",
                 "--eval-limit", "200", "--epochs", "2", "--runs-dir", str(tmp_path)])
    assert code == 2
    error = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "loss became nan at epoch 1" in error[0] and error[0].endswith("try a lower --lr")
    folder = next(tmp_path.iterdir())
    assert json.loads((folder / "status.json").read_text())["state"] == "failed"
    assert (folder / "model.pth").is_file()


@pytest.mark.slow
def test_early_stopping_ends_a_run_that_cannot_improve(tmp_path, fashion_mnist_dir):
    # basenet has no batch norm and no dropout: at lr 1e-30 the weights, so the valid loss, never change
    recipe = Recipe(name="stuck", arch="basenet", epochs=5, lr=1e-30, schedule="constant", early_stop=1, **SMALL)
    result = run(recipe, runs_dir=tmp_path)
    assert [r["epoch"] for r in result.run.read_csv("metrics.csv")] == [0, 1]
    assert result.run.read_json("status.json")["state"] == "finished"
    report = (result.run.path / "report.md").read_text()
    assert "## Early stopping" in report and "| 2 | 5 | valid_loss |" in report


def test_unknown_monitor_and_cpu_fp16_fail_before_the_run_folder(tmp_path):
    with pytest.raises(FashionsegError, match="monitor 'acuracy' is not a column.*valid_loss, accuracy"):
        run(Recipe(name="m", arch="basenet", early_stop=2, monitor="acuracy", **SMALL), runs_dir=tmp_path)
    if not torch.cuda.is_available():
        with pytest.raises(FashionsegError, match="fp16 needs a CUDA GPU"):
            run(Recipe(name="p", arch="basenet", precision="fp16", **SMALL), runs_dir=tmp_path)
    with pytest.raises(FashionsegError, match="precision must be one of 32, bf16, fp16"):
        Recipe(name="p", arch="basenet", precision="16", **SMALL)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


@pytest.mark.slow
def test_step_schedule_multiplies_the_rate_every_period_also_from_a_start_epoch(fashion_mnist_dir):
    recipe = Recipe(name="step", arch="basenet", epochs=4, lr=1e-2, schedule="step", step_factor=0.5, step_every=2,
                    **{**SMALL, "limit": 512, "eval_limit": 128})
    learn = build_learner(recipe).learn
    fit(learn, recipe)
    n = len(learn.dls.train)
    assert learn.recorder.hps["lr"] == pytest.approx([1e-2] * 2 * n + [5e-3] * 2 * n)
    fit(learn, recipe, start_epoch=3)  # fastai skips epochs 0-2; the rate is the second step's
    assert learn.recorder.hps["lr"] == pytest.approx([5e-3] * n)


class DtypeProbe(Callback):
    """Records the dtype the model's output has before the autocast callback casts it back."""

    order = 5

    def after_pred(self):
        self.learn.pred_dtypes = getattr(self.learn, "pred_dtypes", set()) | {self.pred.dtype}


@pytest.mark.slow
def test_bf16_on_cpu_trains_in_bfloat16_to_a_sane_accuracy(tmp_path, fashion_mnist_dir):
    recipe = Recipe(name="bf16", arch="seed000-cnn", epochs=1, lr=3e-3, precision="bf16",
                    **{**SMALL, "limit": 3000, "eval_limit": 1000})
    result = run(recipe, runs_dir=tmp_path, cbs=[DtypeProbe()])
    assert result.learner.pred_dtypes == {torch.bfloat16}
    assert result.results["accuracy"] > 0.6 and math.isfinite(result.results["test_loss"])
    assert not torch.is_autocast_enabled("cpu")  # left after every batch


@pytest.mark.slow
def test_early_stop_monitor_unknown_before_fit_fails_at_its_start_and_skipped_epochs_count_not(fashion_mnist_dir):
    from fashionseg.callbacks.stopping import EarlyStop

    recipe = Recipe(name="late", arch="basenet", epochs=1, **{**SMALL, "limit": 256, "eval_limit": 128})
    learn = build_learner(recipe).learn
    with pytest.raises(FashionsegError, match="monitor 'f1' is not a column.*train_loss, valid_loss, accuracy"):
        learn.fit(1, cbs=EarlyStop(monitor="f1"))
    assert learn.epoch == 0 and not learn.recorder.values
    learn.fit(3, cbs=EarlyStop(patience=1), start_epoch=2)  # epochs skipped for start_epoch have no scores
    assert len(learn.recorder.values[-1]) == 3 and learn.stopped_early is None
