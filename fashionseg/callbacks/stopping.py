"""Stopping a fit early: at once on a non-finite loss (keeping the last finite epoch's weights),
when a monitored score stops improving (fastai's EarlyStoppingCallback), and after the current batch
on SIGTERM/SIGINT (`StopOnSignal`), so that the run can be resumed."""
from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager

from fastai.callback.core import Callback, CancelFitException
from fastai.callback.tracker import EarlyStoppingCallback, TrackerCallback
from fastai.torch_core import get_model, maybe_gather

from fashionseg.callbacks.core import ORDER
from fashionseg.errors import FashionsegError
from fashionseg.registry.task import Section
from fashionseg.utils.distributed import largest

SIGNALS = (signal.SIGTERM, signal.SIGINT)
LOSS_COLUMNS = ("train_loss", "valid_loss")


class NonFiniteLoss(FashionsegError):
    """Training stopped at a nan/inf loss; in multi-process training every rank stops with it."""


class NonFiniteStop(Callback):
    """Stops the fit at the first nan/inf loss, like fastai's TerminateOnNaNCallback, but says where
    (`learn.nonfinite`: one line) and keeps a CPU copy of the weights at each finite epoch end
    (`learn.finite_state`: the weights before fit until the first epoch ends). Launched on several
    processes, it watches the mean loss over the ranks (fastai's gather), so all stop at one batch."""

    order = ORDER["NonFiniteStop"]

    def __init__(self, precision: str = "32"):
        self.precision, self.fitting = precision, False

    def before_fit(self):
        self.learn.nonfinite, self.fitting = None, not hasattr(self.learn, "lr_finder")  # lr_find diverges on purpose
        self.learn.finite_state, self.learn.finite_epoch = self._copy(), None

    def after_fit(self):
        self.fitting = False  # outside fit (learn.validate, get_preds) a nan is no reason to cancel

    def after_batch(self):
        if not self.fitting:
            return
        loss = float(maybe_gather(self.loss.detach()))
        if math.isfinite(loss):
            return
        phase = "training" if self.training else "validation"
        kept = f"epoch {self.finite_epoch + 1}" if self.finite_epoch is not None else "before training"
        hint = "try a lower --lr" + (" or --precision 32" if self.precision != "32" else "")
        self.learn.nonfinite = (f"{phase} loss became {loss} at epoch {self.epoch + 1}, batch {self.iter + 1}; "
                                f"model.pth keeps the weights from {kept}; {hint}")
        raise CancelFitException()

    def after_epoch(self):
        self.learn.finite_state, self.learn.finite_epoch = self._copy(), self.epoch

    def _copy(self) -> dict:
        return {k: v.detach().to("cpu", copy=True) for k, v in get_model(self.model).state_dict().items()}


class EarlyStop(EarlyStoppingCallback):
    """fastai's early stopping that records when it stopped (`learn.stopped_early`, for the report)
    instead of printing, and names the columns when the monitored one does not exist."""

    order = ORDER["EarlyStop"]

    def before_fit(self):
        self.learn.stopped_early = None
        columns = list(self.recorder.metric_names[1:-1])
        if hasattr(self.learn, "lr_finder") or hasattr(self.learn, "gather_preds") or self.monitor in columns:
            return super().before_fit()
        raise unknown_monitor(self.monitor, columns)

    def after_epoch(self):
        if not self.recorder.values[-1]:  # an epoch fastai skipped to reach `start_epoch`: no scores
            return
        TrackerCallback.after_epoch(self)
        self.wait = 0 if self.new_best else self.wait + 1
        if self.wait >= self.patience:
            self.learn.stopped_early = [self.epoch + 1, self.n_epoch, self.monitor, float(self.best),
                                        self.epoch - self.wait + 1]
            raise CancelFitException()


def stopping_sections(learn) -> list[Section]:
    """A report table saying when early stopping ended the fit (none when it ran to the end)."""
    row = getattr(learn, "stopped_early", None)
    if row is None:
        return []
    return [Section("Early stopping", ["stopped after epoch", "of epochs", "monitor", "best", "best at epoch"], [row])]


def check_monitor(monitor: str, metric_names: list[str], option: str = "--monitor"):
    """The monitored column is a loss or an epoch metric's name (the recorder's columns)."""
    columns = [*LOSS_COLUMNS, *metric_names]
    if monitor not in columns:
        raise unknown_monitor(monitor, columns, option)


def unknown_monitor(monitor: str, columns: list[str], option: str = "--monitor") -> FashionsegError:
    return FashionsegError(f"{option[2:]} {monitor!r} is not a column of this run's epochs; use {option} with one "
                           f"of {', '.join(columns)}")


def fail_if_nonfinite(learn, run):
    """After fit: on a non-finite loss, save the last finite weights as model.pth and raise the reason."""
    if getattr(learn, "nonfinite", None) is None:
        return
    learn.model.load_state_dict(learn.finite_state)
    run.save_weights(learn.model)
    raise NonFiniteLoss(learn.nonfinite)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by SIGTERM or SIGINT after its current batch; `exit_code` is 128 + the signal."""

    def __init__(self, signum: int, command: str):
        self.signal, self.command = signal.Signals(signum).name, command
        self.exit_code = 128 + signum
        super().__init__(f"{self.signal}: resume with {command}")


class StopOnSignal(Callback):
    """SIGTERM and SIGINT set a flag; the batch under way finishes, then fit stops (fastai's
    CancelFitException). A second signal stops at once. Launched on several processes, a signal to
    any of them stops them all after the same batch (the flag is combined across ranks)."""

    order = ORDER["StopOnSignal"]

    def __init__(self):
        self.received = None

    def handle(self, signum, frame):
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signum

    def after_batch(self):
        received = largest(self.received or 0)
        if received:
            self.received = received
            raise CancelFitException

    @contextmanager
    def installed(self):
        """The handlers for the duration of the block, in the main thread only; the previous ones after."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self.handle) for s in SIGNALS}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
