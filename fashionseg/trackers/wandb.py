"""Weights & Biases tracking (`--track wandb`): one wandb run per fashionseg run."""
from __future__ import annotations

import os
from pathlib import Path

from fashionseg.callbacks.core import ORDER
from fashionseg.run_folders.folder import RunFolder
from fashionseg.trackers.base import Tracker, experiment_name, in_fit_only, record, run_params, test_metrics


class WandbRun(Tracker):
    """Opens the W&B run that fastai's own WandbCallback logs to, offline unless $WANDB_MODE says otherwise,
    its files in the run folder's wandb/ (a resumed run: another offline-run folder with the same id);
    ends it with the test metrics in its summary."""

    order = ORDER["WandbRun"]

    def __init__(self, folder: RunFolder, built, resume: bool = False):
        self.folder, self.built, self.resume, self.session = folder, built, resume, None

    def before_fit(self):
        if not in_fit_only(self) or self.session is not None:
            return
        import wandb

        saved = record(self.folder, "wandb") if self.resume else {}
        settings = wandb.Settings(console="off", save_code=False, disable_git=True, x_disable_stats=True, silent=True)
        project = os.environ.get("WANDB_PROJECT") or experiment_name(self.built.recipe)
        self.session = wandb.init(dir=str(self.folder.path), project=project, name=self.folder.path.name,
                                  id=saved.get("id"), resume="allow" if saved else None,
                                  mode=os.environ.get("WANDB_MODE", "offline"), config=run_params(self.built),
                                  settings=settings)
        record(self.folder, "wandb", {"id": self.session.id, "dir": str(Path(self.session.dir).parent)})

    def end(self, status: str):
        if self.session is None:
            return
        if status == "FINISHED":
            self.session.summary.update(test_metrics(self.folder))
        self.session.finish(exit_code=0 if status == "FINISHED" else 1)
