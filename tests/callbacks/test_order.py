"""Callbacks run in one explicit order (fashionseg.callbacks.core.ORDER): the table states it, every
callback class takes its place from it, and a real run's Learner calls them in that order."""
import importlib
import inspect
import pkgutil

import pytest
from fastai.callback.core import Callback, TrainEvalCallback
from fastai.callback.fp16 import MixedPrecision
from fastai.learner import Recorder, SkipToEpoch

import fashionseg.callbacks
import fashionseg.trackers
from fashionseg import Recipe
from fashionseg.callbacks.core import ORDER


def fashionseg_callbacks() -> dict[str, type]:
    """Every fastai callback class defined in fashionseg's callbacks/ and trackers/ packages."""
    found = {}
    for package in (fashionseg.callbacks, fashionseg.trackers):
        for info in pkgutil.iter_modules(package.__path__):
            if info.name == "wandb_log":  # fastai's WandbCallback imports wandb; checked by name below
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, Callback) and cls.__module__ == module.__name__ and "order" in vars(cls):
                    found[name] = cls
    return found


def test_every_callback_takes_its_order_from_the_one_table():
    found = fashionseg_callbacks()
    assert set(found) <= set(ORDER), f"callbacks with an order outside the table: {set(found) - set(ORDER)}"
    assert set(ORDER) - set(found) == set(), f"table entries naming no callback: {set(ORDER) - set(found)}"
    assert {name: cls.order for name, cls in found.items()} == {name: ORDER[name] for name in found}


def before(*names):
    """Each callback (or fastai landmark order) runs strictly before the next one."""
    orders = [ORDER[n] if isinstance(n, str) else n for n in names]
    return all(a < b for a, b in zip(orders, orders[1:]))


@pytest.mark.parametrize("why, chain", [
    ("a nan loss stops the batch before the recorder or progress bar sees it",
     ("NonFiniteStop", Recorder.order, "RichProgress")),
    ("a nan loss stops before anything is checkpointed", ("NonFiniteStop", "BestCheckpoints", "LastCheckpoint")),
    ("trackers open their run before the training clock starts", ("MlflowTracker", "TrainClock")),
    ("the body is frozen or unfrozen after fastai's train/eval switch and before the batches",
     (TrainEvalCallback.order, "FreezeBody", Recorder.order)),
    ("an epoch's row is in metrics.csv before its checkpoint, its MLflow log and the heartbeat",
     ("EpochCSV", "BestCheckpoints", "Heartbeat")),
    ("MLflow logs the epoch after metrics.csv has its row", ("EpochCSV", "MlflowEpochs")),
    ("the heartbeat says an epoch is done after the writers and the progress row", ("RichProgress", "EpochCSV",
                                                                                    "Heartbeat")),
    ("the EMA weights are judged by the epoch-end writers, then swapped out before last.pth",
     ("BestCheckpoints", "Heartbeat", "WeightEMA", "LastCheckpoint")),
    ("accumulation skips a step before fp16's grad scaler (MixedPrecision 10) steps it", ("AccumulateGradients",
                                                                                       MixedPrecision.order)),
    ("clipping sees gradients the grad scaler has unscaled", (MixedPrecision.order, "ClipGradients")),
    ("a batch is resized, then mixed, then autocast", ("ProgressiveResize", "MixBatch", "Autocast")),
    ("the kept validation predictions are float32 (after autocast) as the recorder saw them",
     ("Autocast", Recorder.order, "KeepValidation")),
    ("a signal stops after last.pth is written, before fastai's SkipToEpoch", ("LastCheckpoint", "StopOnSignal",
                                                                             SkipToEpoch.order)),
])
def test_the_orders_that_matter(why, chain):
    assert before(*chain), why


def test_early_stopping_judges_an_epoch_after_every_writer_saw_it():
    assert ORDER["EarlyStop"] > max(ORDER[n] for n in ("EpochCSV", "BestCheckpoints", "Heartbeat"))


@pytest.mark.slow
def test_a_built_learner_calls_them_in_the_tables_order(fashion_mnist_dir):
    from fashionseg.build.learner import build_learner

    recipe = Recipe(name="order", dataset="fashion-mnist", arch="seed000-cnn", metrics=["accuracy"], epochs=1,
                    bs=32, limit=64, eval_limit=32, ema=0.9, early_stop=2, precision="bf16", sizes=[[0, 28]],
                    accumulate=2, clip=1.0, mixup=0.2)
    learn = build_learner(recipe).learn
    ours = [type(cb).__name__ for cb in learn.cbs.sorted("order") if type(cb).__name__ in ORDER]
    assert {"NonFiniteStop", "TrainClock", "WeightEMA", "EarlyStop", "Autocast", "ProgressiveResize",
            "AccumulateGradients", "ClipGradients", "MixBatch"} <= set(ours)
    assert ours == sorted(ours, key=ORDER.__getitem__)
