"""The model card (README.md) of a model folder: YAML metadata for the hub, then what the model does, its classes,
test metrics and per-class results, training data and settings, figures, intended use and limits, and how to load
it with fashionseg and with plain torch or timm."""
from __future__ import annotations

import json

from fashionseg.infer.trained import TrainedRun
from fashionseg.recipe.schema import flat_settings
from fashionseg.report.tables import figure_links, markdown_table, metrics_markdown
from fashionseg.run_folders.summary import scalar_metrics

REPO = "ORG/NAME"  # where the card's examples say the folder was uploaded (`hf upload ORG/NAME FOLDER`)


def model_card(trained: TrainedRun, figures: list[tuple[str, str]], timm_format: bool) -> str:
    """The card's markdown; `figures` as `(title, relative path)`; `timm_format`: plain timm loads the folder."""
    results = read_results(trained)
    lines = [*metadata(trained, results, timm_format), f"# {trained.recipe.name}", "", *what_it_does(trained),
             *classes_section(trained), *metrics_markdown(results, "per-class" in trained.task.report_sections),
             *training_section(trained), "", "## Figures", "",
             *(figure_links(figures) or ["Figures that show data items are left out (`--with-examples` adds them).", ""]),
             *limits_section(trained), *loading_section(trained, timm_format)]
    return "\n".join(lines) + "\n"


def read_results(trained: TrainedRun) -> dict:
    """metrics.json without what is not a test result (figures, sections, provenance)."""
    if not (trained.path / "metrics.json").is_file():
        return {}
    skip = {"inference", "timings", "figures", "sections", "provenance", "plugins", "confusion_matrix"}
    return {k: v for k, v in trained.run.read_json("metrics.json").items() if k not in skip}


def pipeline_tag(trained: TrainedRun) -> str:
    """The hub's task tag: a map per image (the task tiles) is segmentation, one prediction per image classification."""
    return "image-segmentation" if trained.task.tiles else "image-classification"


def metadata(trained: TrainedRun, results: dict, timm_format: bool) -> list[str]:
    """The YAML block the hub reads (library, tags, metrics with their test values); JSON strings are YAML."""
    tag, q = pipeline_tag(trained), json.dumps
    metrics = {k: v for k, v in scalar_metrics(results).items() if k != "test_loss"}
    lines = ["---", f"library_name: {'timm' if timm_format else 'fashionseg'}",
             f"tags: [fashionseg, fastai, {tag}{', timm' if timm_format else ''}]", f"pipeline_tag: {tag}"]
    if metrics:
        lines += [f"metrics: [{', '.join(metrics)}]", "model-index:", f"- name: {q(trained.recipe.name)}",
                  "  results:", f"  - task: {{type: {tag}}}",
                  f"    dataset: {{name: {q(trained.recipe.dataset)}, type: {q(trained.recipe.dataset)}}}",
                  "    metrics:", *(f"    - {{type: {q(k)}, value: {v}}}" for k, v in metrics.items())]
    return [*lines, "---", ""]


def what_it_does(trained: TrainedRun) -> list[str]:
    s, r = trained.summary, trained.recipe
    size = s.get("input_size") or s.get("image_size")
    at = f" at {size[0]}x{size[1]} pixels" if size else ""
    kind = "a mask of class indices per image" if trained.task.tiles else "one class per image"
    return [f"A `{r.arch}` model for {s['task']} ({kind}) over {len(s['classes'])} classes, trained with "
            f"fashionseg on `{r.dataset}`; it takes "
            f"{'RGB' if s['n_in'] == 3 else 'grey'} images{at}.", "", r.description or "", ""]


def classes_section(trained: TrainedRun) -> list[str]:
    colors = trained.summary.get("colors") if trained.task.tiles else None
    rows = [[i, name, *([f"`{colors[i]}`"] if colors else [])] for i, name in enumerate(trained.classes)]
    return ["## Classes", "", *markdown_table(["index", "class", *(["colour"] if colors else [])], rows), ""]


def training_section(trained: TrainedRun) -> list[str]:
    """The data's sizes and statistics and the recipe's settings; no local paths."""
    s = trained.summary
    data = [["data set", trained.recipe.dataset], ["training items", s.get("n_train")],
            ["validation items", s.get("n_valid")], ["test items", s.get("n_test")],
            ["image size", s.get("image_size")], ["input size", s.get("input_size")],
            ["normalisation (mean, std)", s.get("stats")]]
    settings = [[k, f"`{v}`"] for k, v in flat_settings(trained.recipe.to_dict()).items()
                if not k.endswith("path") and k not in ("name", "description")]
    return ["", "## Training data and settings", "", *markdown_table(["data", "value"], data), "",
            *markdown_table(["setting", "value"], settings)]


def limits_section(trained: TrainedRun) -> list[str]:
    return ["## Intended use and limits", "",
            f"For research and teaching on images like those of `{trained.recipe.dataset}`: same kind of scene, "
            f"{'colour' if trained.summary['n_in'] == 3 else 'grey'} images, the classes above only. Its scores hold for "
            "the test set above; check it on your own labelled data (`fashionseg evaluate`) before relying on it, "
            "and expect it to fail on images unlike its training data.", ""]


def loading_section(trained: TrainedRun, timm_format: bool) -> list[str]:
    """How to load it: fashionseg (the whole pipeline), then plain torch or timm (the bare model)."""
    r, s = trained.recipe, trained.summary
    lines = ["## How to load it", "", "Upload this folder with the hub's own client: `hf upload ORG/NAME .`", "",
             "With fashionseg (resizing, normalisation and output decoding included):", "", "```python",
             "import fashionseg", "", f'run = fashionseg.load_run("hf-hub:{REPO}")  # or the folder\'s path',
             'print(run.predict("image.png"))', "```", "",
             f"or `fashionseg predict hf-hub:{REPO} images/`. A browser demo: `fashionseg demo hf-hub:{REPO}`.", ""]
    if timm_format:
        lines += ["With plain timm:", "", "```python", "import timm", "",
                  f'model = timm.create_model("hf-hub:{REPO}", pretrained=True).eval()', "```", ""]
    else:
        lines += ["With plain torch (the architecture's code comes from fashionseg's plugins):", "", "```python",
                  "import fashionseg", "from safetensors.torch import load_file", "",
                  f"model = fashionseg.create_model({r.arch!r}, {len(s['classes'])}, {s['n_in']}"
                  f"{''.join(f', {k}={v!r}' for k, v in r.arch_options.items())})",
                  'model.load_state_dict(load_file("model.safetensors"))', "model.eval()", "```", ""]
    return lines + ["Feed it images prepared as `preprocessing.json` says (scale to [0, 1], normalise with the mean "
                    "and std above, resize to the input size).", ""]
