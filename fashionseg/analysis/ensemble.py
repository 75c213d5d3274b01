"""Ensembles of a run's best checkpoints: their probabilities averaged, compared with
the final weights and the single best checkpoint on the run's own final metrics."""
from __future__ import annotations

from torch import nn

from fashionseg.callbacks.checkpoints import best_checkpoints
from fashionseg.infer.evaluate import evaluate_as_trained
from fashionseg.registry.task import Task
from fashionseg.run_folders.summary import scalar_metrics


class Ensemble(nn.Module):
    """Averages its models' probabilities as the task defines them (softmax for classes, sigmoid for labels);
    returns an output that the task's probabilities turn back into that average, as `evaluate` expects."""

    def __init__(self, models: list[nn.Module], task: Task | None = None):
        super().__init__()
        self.members, self.task = nn.ModuleList(models), task or Task()

    def forward(self, x):
        return self.task.average([m(x) for m in self.members])


def compare_with_ensemble(loaded, k: int | None) -> dict[str, dict]:
    """Test metrics of the final weights and, with `k`, of the best checkpoint and the ensemble of the k best;
    each scored as the run's own final evaluation was (its loss, metrics, flip TTA and sliding window)."""
    def scores(model):
        results = evaluate_as_trained(model, loaded.data.test_dl, loaded.scoring(), loaded.data.classes,
                                      loaded.task, loaded.recipe)
        return scalar_metrics(results)

    rows = {"final weights": scores(loaded.model)}
    if k:
        kept = best_checkpoints(loaded.run, k)
        models = [loaded.new_model(c["file"]) for c in kept]
        rows[f"best single (epoch {kept[0]['epoch']})"] = scores(models[0])
        epochs = ", ".join(str(c["epoch"]) for c in kept)
        rows[f"ensemble of {k} (epochs {epochs})"] = scores(Ensemble(models, loaded.task).eval())
    return rows


def ensemble_report(loaded, k: int | None, console) -> dict[str, dict]:
    """Print the test metrics of the final weights (with `k`: the best checkpoint and the ensemble of
    the k best); with `k`, record them in metrics.json and report.md ("Best-epoch ensembles")."""
    from rich.table import Table

    from fashionseg.report.sections import set_report_section, update_metrics
    from fashionseg.report.tables import markdown_table

    with console.status("evaluating on the test set"):
        rows = compare_with_ensemble(loaded, k)
    columns = list(dict.fromkeys(c for scores in rows.values() for c in scores))
    how = inference_note(loaded.recipe)
    table = Table(title=f"Test set: {loaded.run.path.name}{how}", title_justify="left")
    for col in ["weights", *columns]:
        table.add_column(col, justify="left" if col == "weights" else "right", no_wrap=col == "weights")
    for name, scores in rows.items():
        table.add_row(name, *(f"{scores[c]:.4f}" if c in scores else "-" for c in columns))
    console.print(table)
    if not k:
        return rows
    record = update_metrics(loaded.run, "ensemble", {"k": k, "results": rows})
    lines = ["## Best-epoch ensembles", "",
             f"Softmax outputs of the checkpoints with the lowest validation loss, averaged{how}.", "",
             *markdown_table(["weights", *columns], [[n, *(s.get(c, "-") for c in columns)]
                                                     for n, s in record["results"].items()])]
    set_report_section(loaded.run, "ensemble", "\n".join(lines))
    return rows


def inference_note(recipe) -> str:
    """' (flip TTA, 192-pixel tiles)' when the run's test evaluation is not the plain forward pass."""
    parts = (["flip TTA"] if recipe.tta else []) + ([f"{recipe.tile}-pixel tiles"] if recipe.tile else [])
    return f" ({', '.join(parts)})" if parts else ""
