"""fastai's learning-rate finder on a recipe's Learner: the suggestions `fashionseg lr-find` prints and
`fashionseg tune --lr-find` centres its lr range on."""
from __future__ import annotations

import tempfile
from pathlib import Path

from fastai.callback.schedule import minimum, slide, steep, valley

SUGGESTERS = (valley, slide, minimum, steep)  # valley is fastai's default pick


def lr_suggestions(learn, iters: int, methods=SUGGESTERS) -> dict[str, float]:
    """Run `learn.lr_find` over `iters` mini-batches; the rate each of `methods` suggests, by name."""
    with tempfile.TemporaryDirectory(prefix="fashionseg-lr-find-") as scratch:
        learn.path = Path(scratch)  # fastai saves (then deletes) its weights under learn.path/models: not in cwd
        suggested = learn.lr_find(num_it=iters, suggest_funcs=methods, show_plot=False)
    return {f.__name__: float(v) for f, v in zip(methods, suggested)}
