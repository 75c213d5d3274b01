"""fastai's `fine_tune` as one fit: the body frozen (norm layers still training, fastai's `train_bn`) for
the first `freeze_epochs`, then everything with discriminative learning rates, on fastai's two one-cycle
schedules. One fit, so metrics.csv, checkpoints, last.pth and resume see one run of `epochs` epochs."""
from __future__ import annotations

import numpy as np
from fastai.callback.core import Callback
from fastai.callback.schedule import ParamScheduler, combine_scheds, combined_cos
from fastcore.basics import even_mults

from fashionseg.callbacks.core import ORDER, skipped_epoch
from fashionseg.errors import FashionsegError
from fashionseg.models.layers import find_module

LR_MULT = 100  # fastai's fine_tune defaults: body lr = head lr / 100 once unfrozen
FROZEN_PCT, UNFROZEN_PCT, UNFROZEN_DIV, DIV, DIV_FINAL = 0.99, 0.3, 5.0, 25.0, 1e5
MOMS = (0.95, 0.85, 0.95)


def body_head_splitter(head: str | None, arch_name: str):
    """A fastai splitter: [body parameters, head parameters], the head being the architecture's
    `feature_layer` (timm models: their classifier)."""
    if not head:
        raise FashionsegError(f"architecture {arch_name!r} declares no feature_layer (its head), so freeze_epochs "
                              "cannot tell body from head; use --freeze-epochs 0")

    def split(model):
        head_params = list(find_module(model, head).parameters())
        ids = {id(p) for p in head_params}
        return [[p for p in model.parameters() if id(p) not in ids], head_params]

    return split


def fine_tune_callbacks(lr: float, freeze_epochs: int, epochs: int) -> list[Callback]:
    """The schedules of `learn.fine_tune(epochs - freeze_epochs, lr, freeze_epochs)` joined into one fit."""
    frozen = np.array([lr / 10, lr])  # fit_one_cycle(freeze_epochs, slice(lr), pct_start=0.99)
    unfrozen = np.array(even_mults(lr / 2 / LR_MULT, lr / 2, 2))  # slice(lr/2/lr_mult, lr/2), pct_start 0.3, div 5
    pcts = [freeze_epochs / epochs, 1 - freeze_epochs / epochs]
    lr_sched = combine_scheds(pcts, [combined_cos(FROZEN_PCT, frozen / DIV, frozen, frozen / DIV_FINAL),
                                     combined_cos(UNFROZEN_PCT, unfrozen / UNFROZEN_DIV, unfrozen, unfrozen / DIV_FINAL)])
    mom_sched = combine_scheds(pcts, [combined_cos(FROZEN_PCT, *MOMS), combined_cos(UNFROZEN_PCT, *MOMS)])
    return [ParamScheduler({"lr": lr_sched, "mom": mom_sched}), FreezeBody(freeze_epochs)]


class FreezeBody(Callback):
    """The body frozen during the first `freeze_epochs` epochs, unfrozen after (fresh optimizer state, as
    fastai's `unfreeze`); a resumed run takes up the state of its epoch and keeps its restored optimizer."""

    order = ORDER["FreezeBody"]

    def __init__(self, freeze_epochs: int):
        self.freeze_epochs = freeze_epochs

    def before_fit(self):
        self.frozen = None

    def before_epoch(self):
        frozen = self.epoch < self.freeze_epochs
        if frozen == self.frozen:
            return
        self.opt.freeze_to(-1 if frozen else 0)
        if not frozen and self.epoch == self.freeze_epochs and not skipped_epoch(self.learn):
            self.opt.clear_state()
        self.frozen = frozen
