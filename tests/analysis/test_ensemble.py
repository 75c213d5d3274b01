"""Top-k checkpoints kept during training, and ensembles of them."""
import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from fashionseg import FashionsegError
from fashionseg.analysis.ensemble import Ensemble
from fashionseg.callbacks.checkpoints import BestCheckpoints, best_checkpoints
from fashionseg.cli import main
from fashionseg.infer.trained import load_run
from fashionseg.run_folders.folder import RunFolder


def drive(callback, losses):
    """Feed `callback` one epoch per validation loss, as a Learner would."""
    model = nn.Linear(2, 2)
    callback.learn = SimpleNamespace(model=model, epoch=0,
                                     recorder=SimpleNamespace(metric_names=["epoch", "train_loss", "valid_loss"]))
    callback.before_fit()
    for epoch, loss in enumerate(losses):
        callback.learn.epoch = epoch
        callback.learn.recorder.log = [epoch, 1.0, loss]
        callback.after_epoch()


def test_only_the_k_lowest_validation_losses_are_kept(tmp_path):
    run = RunFolder(tmp_path)
    drive(BestCheckpoints(run, k=3), [0.9, 0.5, 0.7, float("nan"), 0.6, 0.8, 0.4])
    index = json.loads((tmp_path / "checkpoints.json").read_text())
    assert [(c["epoch"], c["valid_loss"]) for c in index["checkpoints"]] == [(6, 0.4), (1, 0.5), (4, 0.6)]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == \
        ["epoch-001.pth", "epoch-004.pth", "epoch-006.pth"]
    assert [c["epoch"] for c in best_checkpoints(run, 2)] == [6, 1]
    with pytest.raises(FashionsegError, match="kept 3 checkpoints"):
        best_checkpoints(run, 4)


def test_ensemble_averages_softmax_outputs():
    models = [nn.Linear(4, 3) for _ in range(3)]
    x = torch.randn(5, 4)
    expected = torch.stack([m(x).softmax(1) for m in models]).mean(0)
    assert torch.allclose(Ensemble(models)(x).softmax(1), expected, atol=1e-6)


def test_training_keeps_its_best_checkpoints_and_evaluate_compares_the_ensemble(tiny_run_copy, capsys):
    folder = tiny_run_copy  # the analysis writes into the run folder: a copy of the shared run
    kept = json.loads((folder / "checkpoints.json").read_text())["checkpoints"]
    epochs = RunFolder(folder).read_csv("metrics.csv")
    best_two = sorted(epochs, key=lambda r: r["valid_loss"])[:2]
    assert [c["epoch"] for c in kept] == [r["epoch"] for r in best_two]
    assert len(list((folder / "checkpoints").iterdir())) == 2

    assert main(["evaluate", str(folder), "--ensemble", "2"]) == 0
    assert "ensemble of 2" in capsys.readouterr().out
    results = json.loads((folder / "metrics.json").read_text())["ensemble"]["results"]
    best, ensemble = (results[k] for k in results if k.startswith(("best single", "ensemble of 2")))

    loaded = load_run(folder)
    models = [loaded.new_model(c["file"]) for c in kept]
    correct, nll = {"best": 0, "ensemble": 0}, 0.0
    with torch.no_grad():
        for xb, yb in loaded.test_loader():
            probs = [m(xb).softmax(1) for m in models]
            mean = torch.stack(probs).mean(0)
            correct["best"] += int((probs[0].argmax(1) == yb).sum())
            correct["ensemble"] += int((mean.argmax(1) == yb).sum())
            nll -= float(mean.as_subclass(torch.Tensor).gather(1, yb.as_subclass(torch.Tensor).view(-1, 1)).log().sum())
    assert best["accuracy"] == pytest.approx(correct["best"] / 256)
    assert ensemble["accuracy"] == pytest.approx(correct["ensemble"] / 256)
    assert ensemble["test_loss"] == pytest.approx(nll / 256, rel=1e-4)
    assert "## Best-epoch ensembles" in (folder / "report.md").read_text()
    assert main(["evaluate", str(folder), "--ensemble", "3"]) == 2


def test_evaluate_predicts_as_the_run_did_with_its_flip_tta(tiny_run, tmp_path, capsys):
    """A run trained with tta=True is scored with flip TTA by `evaluate` too, so the two agree."""
    import shutil

    folder = tmp_path / "tta-run"
    shutil.copytree(tiny_run, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "tta": True}))
    assert main(["evaluate", str(folder), "--ensemble", "2"]) == 0
    assert "(flip TTA)" in " ".join(capsys.readouterr().out.split())
    results = json.loads((folder / "metrics.json").read_text())["ensemble"]["results"]

    loaded = load_run(folder)
    correct = {"plain": 0, "tta": 0}
    with torch.no_grad():
        for xb, yb in loaded.test_loader():
            plain = loaded.model(xb).softmax(1)
            mirrored = loaded.model(xb.flip(-1)).softmax(1)
            correct["plain"] += int((plain.argmax(1) == yb).sum())
            correct["tta"] += int(((plain + mirrored).argmax(1) == yb).sum())
    assert correct["plain"] != correct["tta"]  # else this test could not tell the two apart
    assert results["final weights"]["accuracy"] == pytest.approx(correct["tta"] / 256)
    assert "averaged (flip TTA)" in (folder / "report.md").read_text()
