"""A trained run brought back from its folder alone (config.json, data.json, weights): the one object
inference, evaluation, export, analysis and the Python API work with (`load_run`)."""
from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import torch

from fashionseg.build.checks import check_recipe, resolve
from fashionseg.build.learner import build_data, build_model
from fashionseg.build.scoring import Scoring, scoring
from fashionseg.errors import FashionsegError
from fashionseg.infer.predict import predict_images, predict_inputs
from fashionseg.models.hub import hub_folder, hub_id
from fashionseg.models.resize import RunAtSize
from fashionseg.recipe.schema import Recipe
from fashionseg.registry.components import Architecture
from fashionseg.registry.plugins import registry
from fashionseg.registry.task import Task
from fashionseg.run_folders.folder import RunFolder
from fashionseg.run_folders.summary import RunSummary
from fashionseg.utils.device import device

META = "fashionseg"  # the entry of a model folder's config.json holding the run's recipe and data.json


class TrainedRun:
    """A trained model in eval mode with what its run folder says about it: `recipe` (config.json),
    `summary` (data.json: classes, channels, sizes, statistics), its `task` and `arch`. The run's test
    data (`data`) is rebuilt from the recipe only when first used, so predicting needs no data set."""

    def __init__(self, run: RunFolder, recipe: Recipe, summary: dict, task: Task, arch: Architecture,
                 model: torch.nn.Module):
        self.run, self.recipe, self.summary, self.task, self.arch, self.model = run, recipe, summary, task, arch, model

    @property
    def path(self) -> Path:
        return self.run.path

    @property
    def classes(self) -> list[str]:
        return list(self.summary["classes"])

    @property
    def config(self) -> Recipe:
        return self.recipe

    def record(self) -> RunSummary:
        """What the run folder records: state, epochs, last validation scores, test metrics, settings."""
        return RunSummary.read(self.path)

    def new_model(self, weights: str = "model.pth") -> torch.nn.Module:
        """Another copy of the architecture with the run's `weights` file loaded (e.g. a checkpoint)."""
        return load_model(self.run, self.recipe, self.summary, weights)

    def scoring(self) -> Scoring:
        """Fresh scorers exactly as training built them: its loss (label smoothing, class weights, ignored
        pixels), epoch metrics and final evaluators."""
        on = next(self.model.parameters()).device if self.model is not None else None
        summary = self.summary
        return scoring(self.recipe, resolve(self.recipe), summary.get("ignore_index"), on, summary.get("classes"),
                       summary.get("class_weights"), summary)

    @cached_property
    def data(self):
        """The run's data rebuilt from its recipe (the data must be where the run found it)."""
        return build_data(self.recipe, check_recipe(self.recipe))

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

    def predict(self, images, bs: int = 64, tta: bool = False, tile: int = 0, overlap: float = 0.25) -> list:
        """Predictions for a path, PIL image, array or uint8 tensor `(C, H, W)`, a list of them, or a batch
        `(B, C, H, W)`: uint8 as pixels, float as normalised input like the run's DataLoaders give.
        One per image: classification `(label, index, probs)`, segmentation a mask of class indices.
        `tta`: flip test-time augmentation; `tile`: segmentation by a sliding window at each image's own size."""
        from fashionseg.data.images import as_image

        if torch.is_tensor(images) and images.ndim == 4:
            if images.is_floating_point():
                return [p for chunk in images.split(bs) for p in predict_inputs(self, chunk, None, tta, tile, overlap)]
            images = list(images)
        items = images if isinstance(images, (list, tuple)) else [images]
        n_in = self.summary["n_in"]
        return [p for start in range(0, len(items), bs)
                for p in predict_images(self, [as_image(i, n_in) for i in items[start:start + bs]], tta, tile,
                                        overlap)]

    def learner(self):
        """A fastai Learner with the trained model on the run's data (`show_results`, `get_preds`, `lr_find`,
        `predict`); the data must be where the run found it."""
        import fastai.vision.learner  # noqa: F401  (registers show_results for image batches: a grid, not a figure each)

        from fashionseg.build.learner import build_learner
        from fashionseg.callbacks.resize import ProgressiveResize

        try:
            learn = build_learner(self.config).learn
        except FashionsegError as exc:
            raise FashionsegError(f"run.learner() needs the data {self.path} was trained on, and: {exc}") from None
        # the trained model runs at its final size; resizing again would stack a second set of hooks
        learn.remove_cbs([cb for cb in learn.cbs if isinstance(cb, ProgressiveResize)])
        learn.model = self.model
        return learn


def load_model(run: RunFolder, recipe: Recipe, summary: dict, weights: str = "model.pth", on=None):
    """The run's architecture with `weights` loaded, run at its training input size, in eval mode."""
    from fashionseg.utils.allocator import keep_freed_memory

    keep_freed_memory()
    model = run.load_weights(build_model(recipe, len(summary["classes"]), summary["n_in"]), weights)
    if summary.get("input_size"):
        RunAtSize(model, summary["input_size"])
    return model.to(on if on is not None else device()).eval()


def load_run(path: str | Path, on=None, weights: str = "model.pth", command: str | None = None,
             require=None) -> TrainedRun:
    """A trained run from its run folder (config.json, data.json and `weights`), from a model folder made from
    one (`fashionseg export --format hf`), or from such a folder on the hub (`hf-hub:ORG/NAME`, downloaded into
    the hub's cache when not there); no training data needed.

    CUDA when present unless `on`. `command` (e.g. "cam") must apply to the run's task, and
    `require(run)` may check more (e.g. a declared layer), both before the weights are loaded.
    """
    run, recipe, summary = open_trained(path)
    reg = registry()
    task, arch = reg.task(summary["task"]), reg.get("architecture", recipe.arch)
    if command and command not in task.commands:
        raise FashionsegError(f"{run.path} is a {task.name} run; `fashionseg {command}` applies to runs of "
                              f"tasks that support it (task {task.name!r} supports "
                              f"{', '.join(sorted(task.commands)) or 'no analysis commands'})")
    trained = TrainedRun(run, recipe, summary, task, arch, None)
    if require is not None:
        require(trained)
    trained.model = load_model(run, recipe, summary, weights, on)
    return trained


def open_trained(path) -> tuple[RunFolder, Recipe, dict]:
    """The folder, recipe and data summary of a run folder, a model folder or `hf-hub:ORG/NAME`."""
    repo = hub_id(path)
    folder = hub_folder(repo) if repo else Path(path)
    meta = read_model_folder(folder)
    if meta is not None:
        return RunFolder(folder), Recipe.from_dict(meta["recipe"], source=folder / "config.json"), meta["data"]
    run = RunFolder.open(folder)
    if not (run.path / "data.json").is_file():
        raise FashionsegError(f"{run.path} has no data.json; it did not get past loading its data, train it again")
    return run, run.recipe(), run.read_json("data.json")


def read_model_folder(folder: Path) -> dict | None:
    """The "fashionseg" entry of a model folder's config.json (recipe and data.json); None for a run folder."""
    try:
        meta = json.loads((folder / "config.json").read_text()).get(META)
    except (OSError, ValueError, AttributeError):
        return None
    return meta if isinstance(meta, dict) and {"recipe", "data"} <= meta.keys() else None
