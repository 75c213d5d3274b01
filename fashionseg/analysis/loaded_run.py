"""A finished run brought back for analysis: its trained model (rebuilt from the run folder by
`build.model_from_run`) and its test data (rebuilt from the recipe)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from fashionseg.build.checks import check_recipe
from fashionseg.build.learner import build_data
from fashionseg.data import Data
from fashionseg.errors import FashionsegError
from fashionseg.infer.trained import Trained, model_from_run


@dataclass
class LoadedRun:
    trained: Trained
    data: Data

    @property
    def run(self):
        return self.trained.run

    @property
    def recipe(self):
        return self.trained.recipe

    @property
    def model(self) -> torch.nn.Module:
        return self.trained.model

    def test_items(self) -> list[int]:
        """Item indices of the test set, in the test loader's order."""
        return list(self.data.test_dl.dataset.items)

    def test_loader(self, positions=None, bs: int | None = None):
        """A loader over the test set, or over the given positions in it, in order."""
        if positions is None and bs is None:
            return self.data.test_dl
        items = self.test_items()
        chosen = items if positions is None else [items[int(p)] for p in positions]
        return self.data.dls.test_dl(chosen, with_labels=True, bs=bs or self.recipe.bs)

    def display(self, x: torch.Tensor):
        """One normalised input `(C, H, W)` as a grey `(H, W)` array in [0, 1] for figures."""
        return self.data.denormalize(x[None].float())[0].mean(0).cpu().numpy()

    def new_model(self, weights: str) -> torch.nn.Module:
        """Another copy of the architecture with the run's `weights` file loaded."""
        return self.trained.new_model(weights)


def load_run(path, command: str | None = None, require=None) -> LoadedRun:
    """Reopen a run folder with its model and test data; `command` (e.g. "cam") must apply to its
    task, and `require(trained)` may check more (e.g. a declared layer) before the data is loaded."""
    trained = model_from_run(path)
    task = trained.task
    if command and command not in task.commands:
        raise FashionsegError(f"{trained.run.path} is a {task.name} run; `fashionseg {command}` applies to runs of "
                              f"tasks that support it (task {task.name!r} supports "
                              f"{', '.join(sorted(task.commands)) or 'no analysis commands'})")
    if require is not None:
        require(trained)
    return LoadedRun(trained, build_data(trained.recipe, check_recipe(trained.recipe)))
