"""Console progress (fashionseg.callbacks.progress): plain lines per epoch in a log file, a live table in a
terminal; and how numbers print there."""
import io

import pytest


def tiny_learner(*cbs):
    """A two-class linear model on 64 random points: a fit of a few epochs takes milliseconds."""
    import torch
    from fastai.callback.progress import ProgressCallback
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import accuracy

    torch.manual_seed(0)
    x = torch.randn(64, 3)
    items = list(zip(x, (x[:, 0] > 0).long()))
    dls = DataLoaders(DataLoader(items, bs=16, shuffle=True), DataLoader(items, bs=16), device="cpu")
    learn = Learner(dls, torch.nn.Linear(3, 2), loss_func=CrossEntropyLossFlat(), metrics=accuracy, cbs=list(cbs))
    learn.remove_cb(ProgressCallback)
    return learn


def test_progress_is_one_plain_line_per_epoch_as_it_ends_when_not_a_terminal():
    from fastai.callback.core import Callback
    from rich.console import Console

    from fashionseg.callbacks.progress import RichProgress

    console = Console(file=io.StringIO(), width=60)  # a file: not a terminal
    seen = []

    class LinesAtEpochEnd(Callback):
        order = RichProgress.order + 1

        def after_epoch(self):
            seen.append(len(console.file.getvalue().splitlines()))

    tiny_learner(RichProgress(console), LinesAtEpochEnd()).fit(3, 1e-2)
    lines = console.file.getvalue().splitlines()
    assert seen == [1, 2, 3] and len(lines) == 3  # written as each epoch ends, never wrapped
    for n, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {n}/3  train_loss ") and " valid_loss " in line and " accuracy " in line
        assert " elapsed 0:00:0" in line


def test_progress_in_a_terminal_is_a_live_table():
    from rich.console import Console

    from fashionseg.callbacks.progress import RichProgress

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    tiny_learner(RichProgress(console)).fit(2, 1e-2)
    out = console.file.getvalue()
    assert "train_loss" in out and "valid_loss" in out and "┏" in out  # the live table, drawn with rich
    assert "epoch 1/2  train_loss" not in out  # not the plain lines of a log file


@pytest.mark.parametrize("value, shown", [(3e-05, "3e-05"), (2.5e-07, "2.5e-07"), (1.234e-4, "0.000123"), (0.5, "0.5000"),
                                          (0.0, "0.0000"), (12.3456, "12.3456"), (7, "7"), ("00:04", "00:04")])
def test_small_floats_print_in_scientific_notation(value, shown):
    from fashionseg.report.tables import fmt as format_value

    assert format_value(value) == shown


def test_an_error_during_a_fit_stops_the_live_view_before_it_reaches_the_user():
    """fastai skips `after_fit` when an error ends the fit; the trainer's `progress_closed` stops the live view
    (its refresh thread, the hidden cursor) anyway."""
    from fastai.callback.core import Callback
    from rich.console import Console

    from fashionseg.callbacks.progress import RichProgress, progress_closed

    class Breaks(Callback):
        def after_batch(self):
            if self.epoch == 1:
                raise RuntimeError("disk gone")

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    progress = RichProgress(console)
    learn = tiny_learner(progress, Breaks())
    with pytest.raises(RuntimeError, match="disk gone"):
        with progress_closed(learn):
            learn.fit(3, 1e-2)
    assert not progress.active and not progress.live.is_started
    assert progress.live._refresh_thread is None  # stopped and joined
    progress.close()  # again: nothing to do
