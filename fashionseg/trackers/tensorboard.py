"""TensorBoard event files in the run's tensorboard/ folder (`--track tensorboard`)."""
from __future__ import annotations

from fashionseg.run_folders.folder import RunFolder


def tensorboard_callback(folder: RunFolder):
    """fastai's TensorBoardCallback writing event files into the run's tensorboard/ folder."""
    from fastai.callback.tensorboard import TensorBoardCallback

    return TensorBoardCallback(log_dir=str(folder.path / "tensorboard"), trace_model=False, log_preds=False)
