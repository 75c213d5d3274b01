"""Penultimate-layer features of test images, embedded in 2-D with scikit-learn's t-SNE."""
from __future__ import annotations

import numpy as np
import torch

from .layers import penultimate_features


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
