"""Penultimate-layer features of test images, embedded in 2-D with scikit-learn's t-SNE."""
from __future__ import annotations

import numpy as np
import torch

from fashionseg.analysis.layers import penultimate_features


def sample_positions(n: int, sample: int, seed: int) -> list[int]:
    """A seeded random choice of `sample` positions out of `n` (all when `sample` is 0 or >= n), sorted."""
    if not sample or sample >= n:
        return list(range(n))
    gen = torch.Generator().manual_seed(seed)
    return sorted(torch.randperm(n, generator=gen)[:sample].tolist())


def collect_features(model: torch.nn.Module, dl, layer: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (the input of `layer`) `(N, D)`, true labels and predicted labels over a loader."""
    feats, labels, preds = [], [], []
    for xb, yb in dl:
        f, logits = penultimate_features(model, xb, layer)
        feats.append(f.float().cpu())
        labels.append(yb.cpu())
        preds.append(logits.argmax(1).cpu())
    return torch.cat(feats).numpy(), torch.cat(labels).numpy(), torch.cat(preds).numpy()


def used_perplexity(n: int, asked: float) -> float:
    """The perplexity t-SNE can use for `n` points: `asked`, capped below a third of the sample."""
    return min(asked, max(1.0, (n - 1) / 3))


def tsne(features: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE coordinates at `used_perplexity` (the caller records that, not what was asked)."""
    from sklearn.manifold import TSNE

    perplexity = used_perplexity(len(features), perplexity)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
                random_state=seed).fit_transform(features.astype(np.float32))


def embedding_report(loaded, sample: int, perplexity: float, seed: int, console) -> dict:
    """t-SNE of a seeded sample of `sample` test images' features (0: all): the figure, tsne.csv, a
    metrics.json record (the perplexity used, and the one asked when it was capped) and a report.md section."""
    from rich.table import Table

    from fashionseg.models.layers import find_module
    from fashionseg.report.figures import embedding_figure
    from fashionseg.report.sections import set_report_section, update_metrics
    from fashionseg.report.tables import figure_links

    layer_name = loaded.arch.feature_layer
    positions = sample_positions(len(loaded.test_items()), sample, seed)
    with console.status(f"features of {len(positions)} test images"):
        features, labels, preds = collect_features(loaded.model, loaded.test_loader(positions), layer_name)
    used = used_perplexity(features.shape[0], perplexity)
    if used != perplexity:
        console.print(f"perplexity {used:g} used, not {perplexity:g}: t-SNE needs it below a third of "
                      f"the {features.shape[0]} images")
    with console.status(f"t-SNE of {features.shape[0]} x {features.shape[1]} features"):
        coords = tsne(features, seed, used)
    classes, run = loaded.data.classes, loaded.run
    layer = type(find_module(loaded.model, layer_name)).__name__
    title = f"t-SNE of the input to the final {layer} ({features.shape[1]}-d), {len(positions)} test images"
    figure = run.save_figure(embedding_figure(coords, labels, classes, title), "tsne")
    run.write_csv("tsne.csv", ["position", "label", "class", "predicted", "x", "y"],
                  [[p, int(t), classes[int(t)], classes[int(q)], float(x), float(y)]
                   for p, t, q, (x, y) in zip(positions, labels, preds, coords)])
    asked = {"perplexity_asked": perplexity} if used != perplexity else {}
    record = update_metrics(run, "embedding", {
        "images": len(positions), "feature_dim": int(features.shape[1]), "perplexity": used, **asked,
        "seed": seed, "coordinates": "tsne.csv", "figure": figure})
    lines = ["## t-SNE of learned features", "",
             f"{title}; perplexity {used:g}, seed {seed}. Coordinates: [tsne.csv](tsne.csv).", "",
             *figure_links([("t-SNE", figure)])]
    set_report_section(run, "embedding", "\n".join(lines))
    table = Table(title=f"t-SNE: {run.path.name}", title_justify="left")
    table.add_column("file")
    table.add_column("content")
    table.add_row(str(run.path / figure), title)
    table.add_row(str(run.path / "tsne.csv"), f"{len(positions)} rows: position, label, class, predicted, x, y")
    console.print(table)
    return record
