"""Weight EMA (`ema=DECAY`): the average validates each epoch, is kept as model.pth and in the best-k
checkpoints, the optimizer keeps stepping the raw weights, and an interrupted run resumes the same average."""
import json

import pytest
import torch
from fastai.callback.core import Callback
from rich.console import Console

from fashionseg import Recipe
from fashionseg.callbacks.checkpoints import LAST
from fashionseg.engine.trainer import resume_run, run
from fashionseg.errors import FashionsegError

RECIPE = dict(name="tiny-ema", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"], epochs=3, lr=3e-3,
              bs=64, limit=640, eval_limit=300, keep_best=1, ema=0.98, figures=False)


class RawWeights(Callback):
    """The raw (optimizer's) weights at the end of each epoch's training, before validation."""

    order = 0

    def before_fit(self):
        self.learn.raw_weights = []

    def after_train(self):
        self.learn.raw_weights.append({k: v.detach().clone() for k, v in self.learn.model.state_dict().items()})


class StopAfterFirstEpoch(Callback):
    """Ctrl-C once the first epoch's last.pth is written."""

    order = 70

    def after_epoch(self):
        if self.epoch == 0:
            raise KeyboardInterrupt


def last_valid_loss(folder) -> float:
    return float((folder / "metrics.csv").read_text().splitlines()[-1].split(",")[2])


def same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory, fashion_mnist_dir):
    return run(Recipe(**RECIPE), runs_dir=tmp_path_factory.mktemp("ema"), console=Console(quiet=True),
               cbs=[RawWeights()])


@pytest.mark.slow
def test_the_average_validates_and_is_what_the_run_keeps(ema_run):
    folder, learn = ema_run.run.path, ema_run.learner
    kept = torch.load(folder / "model.pth", weights_only=True)
    raw = learn.raw_weights[-1]
    assert not same(kept, raw)  # the optimizer's weights are not what was kept
    floats = [k for k in kept if kept[k].is_floating_point()]
    assert max(float((kept[k] - raw[k]).abs().max()) for k in floats) > 1e-3
    # the test set is the validation set here (eval_limit 300), so the last epoch's valid_loss is model.pth's
    assert ema_run.results["test_loss"] == pytest.approx(last_valid_loss(folder), abs=1e-4)
    best = json.loads((folder / "checkpoints.json").read_text())["checkpoints"][0]
    checkpoint = torch.load(folder / best["file"], weights_only=True)
    assert not same(checkpoint, learn.raw_weights[best["epoch"]])  # checkpoints hold the average too
    if best["epoch"] == RECIPE["epochs"] - 1:
        assert same(checkpoint, kept)


@pytest.mark.slow
def test_without_ema_the_run_keeps_the_raw_weights(tmp_path, fashion_mnist_dir):
    result = run(Recipe(**{**RECIPE, "ema": 0.0, "epochs": 1}), runs_dir=tmp_path, console=Console(quiet=True),
                 cbs=[RawWeights()])
    assert same(torch.load(result.run.path / "model.pth", weights_only=True), result.learner.raw_weights[-1])


@pytest.mark.slow
def test_an_interrupted_ema_run_resumes_the_same_average(ema_run, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(Recipe(**RECIPE), runs_dir=tmp_path, console=Console(quiet=True), cbs=[StopAfterFirstEpoch()])
    (folder,) = tmp_path.iterdir()
    state = torch.load(folder / LAST, weights_only=True)
    assert state["epochs_done"] == 1 and state["ema"]["steps"] == 10  # 640 items at bs 64
    assert not same(state["ema"]["weights"], state["model"])
    resumed = resume_run(folder, console=Console(quiet=True))
    for name in ("test_loss", "accuracy"):
        assert resumed.results[name] == pytest.approx(ema_run.results[name], abs=1e-5)


@pytest.mark.parametrize("decay", [1.0, -0.1, 1.5])
def test_a_decay_outside_zero_to_one_is_refused(decay):
    with pytest.raises(FashionsegError, match="ema is the average's decay"):
        Recipe(**{**RECIPE, "ema": decay})
