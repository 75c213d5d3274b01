"""Penultimate-layer features for every classification architecture, and the embed command."""
import csv
import json

import numpy as np
import pytest
import torch

from fashionseg import create_model, list_components
from fashionseg.analysis.embedding import sample_positions, tsne
from fashionseg.analysis.layers import penultimate_features
from fashionseg.cli import main
from fashionseg.registry.plugins import registry

FEATURE_SIZES = {"seed000-cnn": 120, "basenet": 12, "basenet-improved": 12, "cam-cnn": 32, "resnet101": 2048}


@pytest.mark.parametrize("arch", list_components("architecture", task="classification"))
def test_every_classification_architecture_declares_a_feature_layer_that_resolves(arch):
    layer = registry().get("architecture", arch).feature_layer
    assert layer, f"{arch} declares no feature_layer"
    model = create_model(arch, 10, 1).eval()
    x = torch.randn(3, 1, 28, 28)
    features, logits = penultimate_features(model, x, layer)
    assert features.ndim == 2 and features.shape[0] == 3
    assert torch.allclose(logits, model(x), atol=1e-5)
    if arch in FEATURE_SIZES:
        assert features.shape[1] == FEATURE_SIZES[arch]


def test_sample_positions_are_seeded_and_sorted():
    assert sample_positions(10, 0, seed=0) == list(range(10))
    a, b = sample_positions(1000, 50, seed=1), sample_positions(1000, 50, seed=1)
    assert a == b == sorted(a) and len(set(a)) == 50
    assert a != sample_positions(1000, 50, seed=2)


def test_tsne_gives_two_coordinates_per_row():
    features = np.random.default_rng(0).normal(size=(40, 8))
    coords = tsne(features, seed=0)
    assert coords.shape == (40, 2) and np.isfinite(coords).all()


def test_embed_command_writes_scatter_and_coordinates(tiny_run_copy):
    folder = tiny_run_copy  # the analysis writes into the run folder: a copy of the shared run
    assert main(["embed", str(folder), "--sample", "60"]) == 0
    with open(folder / "tsne.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60 and set(rows[0]) == {"position", "label", "class", "predicted", "x", "y"}
    assert all(np.isfinite(float(r["x"])) and np.isfinite(float(r["y"])) for r in rows)
    assert (folder / "figures/tsne.png").read_bytes()[:4] == b"\x89PNG"
    record = json.loads((folder / "metrics.json").read_text())["embedding"]
    assert record["images"] == 60 and record["feature_dim"] == 32
    assert "](figures/tsne.png)" in (folder / "report.md").read_text()


def test_a_perplexity_capped_for_a_small_sample_is_recorded_as_used(tiny_run_copy, capsys):
    folder = tiny_run_copy  # the analysis writes into the run folder: a copy of the shared run
    assert main(["embed", str(folder), "--sample", "31", "--perplexity", "30"]) == 0
    assert "perplexity 10 used, not 30" in capsys.readouterr().out
    record = json.loads((folder / "metrics.json").read_text())["embedding"]
    assert record["perplexity"] == 10 and record["perplexity_asked"] == 30
    assert "perplexity 10, seed 0" in (folder / "report.md").read_text()
