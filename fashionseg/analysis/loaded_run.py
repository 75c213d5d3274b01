"""A finished run brought back: its recipe, data and trained model, ready for analysis."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data import Data
from ..errors import FashionsegError
from ..recipe import Recipe
from ..runfolder import RunFolder


@dataclass
class LoadedRun:
    run: RunFolder
    recipe: Recipe
    data: Data
    model: torch.nn.Module

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
        from ..train import build_model, device

        model = self.run.load_weights(build_model(self.recipe, self.data), weights)
        return model.to(device()).eval()


def load_run(path, task: str | None = None) -> LoadedRun:
    """Reopen a run folder; `task` (e.g. "classification") is required of its data set."""
    from ..train import check_components, device

    run = RunFolder.open(path)
    recipe = Recipe.from_dict(run.read_json("config.json"))
    dataset, _, _ = check_components(recipe)
    if task and dataset.task != task:
        raise FashionsegError(f"{run.path} is a {dataset.task} run; this command needs a {task} run")
    data = dataset.factory(recipe, device())
    loaded = LoadedRun(run, recipe, data, None)
    loaded.model = loaded.new_model("model.pth")
    return loaded
