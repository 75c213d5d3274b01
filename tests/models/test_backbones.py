"""Any backbone, your own weights: timm:<name> architectures, pretrained weights from files or the local
caches with a load report, and fastai-style fine-tuning (frozen body, then discriminative rates)."""
import json
import os
import signal
import subprocess
import sys

import pytest
import safetensors.torch
import timm
import torch
from fastai.callback.core import Callback
from rich.console import Console

from fashionseg import FashionsegError, Recipe, create_model
from fashionseg.build.checks import check_recipe
from fashionseg.build.learner import pretrained_weights
from fashionseg.cli import main
from fashionseg.engine.trainer import resume_run, run
from fashionseg.infer.trained import load_run
from fashionseg.models.weights import load_pretrained
from fashionseg.registry.plugins import registry

SMALL = "resnet10t"  # conv1.0 is its stem, fc its classifier


def timm_source(n_classes=1000, in_chans=3):
    """A freshly created timm model standing in for a published checkpoint (nothing is downloaded)."""
    torch.manual_seed(0)
    return timm.create_model(SMALL, num_classes=n_classes, in_chans=in_chans)


def tiny(**changes) -> Recipe:
    settings = dict(name="tiny-timm", dataset="fashion-mnist", arch=f"timm:{SMALL}", metrics=["accuracy"], epochs=2,
                    lr=3e-3, bs=64, limit=256, eval_limit=128)
    return Recipe(**{**settings, **changes})


class Snapshots(Callback):
    """The model's tensors before fit and after each epoch, with which parameters could train."""

    def before_fit(self):
        self.states = [self.snapshot()]
        self.trainable = []

    def after_epoch(self):
        self.trainable.append({n for n, p in self.model.named_parameters() if p.requires_grad})
        self.states.append(self.snapshot())

    def snapshot(self):
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}


@pytest.fixture(scope="module")
def pretrained_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "imagenet-like.safetensors"
    safetensors.torch.save_file(timm_source().state_dict(), path)
    return path


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory, fashion_mnist_dir, pretrained_file):
    """timm:resnet10t from 3-channel 1000-class weights, one frozen epoch then two unfrozen, on 256 items."""
    snaps, console = Snapshots(), Console(record=True, width=200)
    result = run(tiny(weights=str(pretrained_file), freeze_epochs=1, epochs=3), tmp_path_factory.mktemp("runs"),
                 console, [snaps])
    return result, snaps, console.export_text()


@pytest.mark.slow
def test_a_timm_model_trains_and_rebuilds_from_its_folder_alone(fine_tuned):
    result, _, _ = fine_tuned
    assert 0 <= result.results["accuracy"] <= 1
    trained = load_run(result.run.path, on="cpu")
    assert trained.arch.name == f"timm:{SMALL}" and trained.model.conv1[0].in_channels == 1
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(trained.model(x), result.learner.model.cpu().eval()(x), atol=1e-5)


@pytest.mark.slow
def test_the_load_report_is_printed_and_recorded_in_the_run_folder(fine_tuned, pretrained_file):
    result, _, out = fine_tuned
    report = json.loads((result.run.path / "weights_load.json").read_text())
    n_file = len(timm_source().state_dict())
    assert report["source"] == str(pretrained_file)
    assert report["adapted"] == [{"tensor": "conv1.0.weight", "from": [24, 3, 3, 3], "to": [24, 1, 3, 3],
                                  "how": "input channels 3 -> 1 (timm adapt_input_conv)"}]
    assert sorted(s["tensor"] for s in report["skipped"]) == ["fc.bias", "fc.weight"]
    assert report["counts"] == {"loaded": n_file - 3, "adapted": 1, "skipped": 2}
    assert f"weights {pretrained_file}: {n_file - 3} tensors loaded, 1 adapted, 2 skipped" in out
    assert "skipped fc.weight: classifier for another number of classes: [1000, 512] in the file, [10, 512]" in out
    md = (result.run.path / "report.md").read_text()
    assert "Pretrained weights" in md and "conv1.0.weight" in md and "fc.bias" in md


@pytest.mark.slow
def test_freeze_epochs_trains_only_head_and_norms_then_everything(fine_tuned):
    _, snaps, _ = fine_tuned
    start, after_frozen, after_unfrozen = snaps.states[:3]
    body_conv = "layer1.0.conv1.weight"
    assert torch.equal(start[body_conv], after_frozen[body_conv])  # frozen
    assert not torch.equal(start["fc.weight"], after_frozen["fc.weight"])  # the head trains
    assert not torch.equal(start["bn1.weight"], after_frozen["bn1.weight"])  # norm layers train, as fastai's train_bn
    assert "layer1.0.conv1.weight" not in snaps.trainable[0] and "fc.weight" in snaps.trainable[0]
    assert not torch.equal(after_frozen[body_conv], after_unfrozen[body_conv])  # unfrozen
    assert "layer1.0.conv1.weight" in snaps.trainable[1]


def test_the_adapted_stem_is_timms_channel_sum(save):
    source, model = timm_source(), create_model(f"timm:{SMALL}", 10, 1)
    load_pretrained(model, save(source.state_dict(), "plain.pth"), head="fc")
    assert torch.allclose(model.conv1[0].weight, source.conv1[0].weight.sum(dim=1, keepdim=True))
    assert torch.equal(model.layer1[0].conv1.weight, source.layer1[0].conv1.weight)


@pytest.fixture
def save(tmp_path):
    def save(obj, name):
        path = tmp_path / name
        (safetensors.torch.save_file if name.endswith(".safetensors") else torch.save)(obj, path)
        return path
    return save


LAYOUTS = {
    "plain.pth": lambda sd: sd,
    "lightning.ckpt": lambda sd: {"state_dict": sd, "epoch": 3},
    "timm-train.pth.tar": lambda sd: {"model": sd, "arch": SMALL, "epoch": 3},
    "weights.safetensors": lambda sd: sd,
    "ddp.pth": lambda sd: {f"module.{k}": v for k, v in sd.items()},
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_each_checkpoint_layout_loads_every_tensor(name, save):
    source = timm_source(n_classes=10, in_chans=1)
    path = save(LAYOUTS[name](source.state_dict()), name)
    model = create_model(f"timm:{SMALL}", 10, 1)
    report = load_pretrained(model, path, head="fc")
    assert (len(report.loaded), report.adapted, report.skipped) == (len(source.state_dict()), [], [])
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("arch, n_in", [("fmnist-fastnet", 1), ("unet", 3)])
def test_an_output_layer_trained_for_other_classes_is_skipped_even_when_its_shape_fits(arch, n_in, tmp_path):
    """Weights from a run folder trained on five other classes: the body loads, the output layer (a classifier's
    or a segmentation head's) is kept as initialised and the report says why; for the same classes it loads."""
    source = create_model(arch, 5, n_in, **({"encoder": "resnet18"} if arch == "unet" else {}))
    (tmp_path / "run").mkdir()
    safetensors.torch.save_file(source.state_dict(), str(tmp_path / "run" / "model.safetensors"))
    theirs = ["a", "b", "c", "d", "e"]
    (tmp_path / "run" / "data.json").write_text(json.dumps({"classes": theirs}))
    options = {"encoder": "resnet18"} if arch == "unet" else {}
    model = create_model(arch, 5, n_in, **options)
    report = load_pretrained(model, tmp_path / "run" / "model.safetensors", classes=["v", "w", "x", "y", "z"])
    skipped = {s["tensor"]: s["reason"] for s in report.skipped}
    head = list(source.state_dict())[-2:]  # the output layer's weight and bias
    assert set(skipped) == set(head)
    assert all("trained for a, b, c, d, e; the data's classes are v, w, x, y, z" in r for r in skipped.values())
    assert not torch.equal(model.state_dict()[head[0]], source.state_dict()[head[0]])  # (smp's biases start at 0)
    assert len(report.loaded) == len(source.state_dict()) - 2
    same = load_pretrained(create_model(arch, 5, n_in, **options), tmp_path / "run" / "model.safetensors",
                           classes=theirs)
    assert (len(same.loaded), same.skipped) == (len(source.state_dict()), [])


def test_tensors_the_model_lacks_or_the_file_lacks_are_skipped_with_the_reason(save):
    state = timm_source(n_classes=10, in_chans=1).state_dict()
    state["extra.weight"] = torch.zeros(2)
    del state["layer1.0.conv1.weight"]
    report = load_pretrained(create_model(f"timm:{SMALL}", 10, 1), save(state, "partial.pth"))
    reasons = {s["tensor"]: s["reason"] for s in report.skipped}
    assert reasons == {"extra.weight": "in the file but not in the model",
                       "layer1.0.conv1.weight": "in the model but not in the file; kept as initialised"}


def test_unreadable_or_foreign_files_are_one_line_errors(save, tmp_path):
    model = create_model(f"timm:{SMALL}", 10, 1)
    good = save(timm_source().state_dict(), "good.pth")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(FashionsegError, match=r"truncated.pth is truncated or not a torch weights file"):
        load_pretrained(model, truncated)
    (tmp_path / "junk.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(FashionsegError, match=r"junk.safetensors is truncated or not a safetensors file"):
        load_pretrained(model, tmp_path / "junk.safetensors")
    with pytest.raises(FashionsegError, match=r"holds a list, not a state_dict of tensors"):
        load_pretrained(model, save([torch.zeros(1)], "list.pth"))
    with pytest.raises(FashionsegError, match=r"shares no tensors with this model"):
        load_pretrained(model, save(create_model("basenet", 10, 1).state_dict(), "basenet.pth"))


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Hugging Face and torch hub caches in empty temporary folders, offline: nothing can be downloaded."""
    from helpers.fake_hub import point_hub

    point_hub(monkeypatch, tmp_path / "hf" / "hub", offline=True)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


def test_published_weights_offline_and_absent_are_one_error_naming_them_the_cache_and_how_to_fetch(empty_caches):
    recipe = tiny(weights="pretrained")
    arch = check_recipe(recipe).arch
    with pytest.raises(FashionsegError) as caught:
        pretrained_weights(recipe, arch, create_model(recipe.arch, 10, 1))
    message = str(caught.value)
    assert f"pretrained weights for timm:{SMALL} (model.safetensors of hf-hub:timm/resnet10t.c3_in1k)" in message and "\n" not in message
    assert str(empty_caches / "hf" / "hub") in message and "HF_HUB_OFFLINE is set" in message
    assert "hf download timm/resnet10t.c3_in1k" in message


def test_published_weights_load_from_the_hugging_face_cache_without_a_download(empty_caches):
    snapshot = empty_caches / "hf" / "hub" / "models--timm--resnet10t.c3_in1k" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    safetensors.torch.save_file(timm_source().state_dict(), snapshot / "model.safetensors")
    recipe = tiny(weights="pretrained")
    report = pretrained_weights(recipe, check_recipe(recipe).arch, create_model(recipe.arch, 10, 1))
    assert report.source == str(snapshot / "model.safetensors") and len(report.adapted) == 1


def test_published_weights_load_from_the_torch_hub_cache(empty_caches):
    folder = empty_caches / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(timm_source().state_dict(), folder / "resnet10t_176_c3-f3215ab1.pth")
    recipe = tiny(weights="pretrained")
    report = pretrained_weights(recipe, check_recipe(recipe).arch, create_model(recipe.arch, 10, 1))
    assert report.source.endswith("resnet10t_176_c3-f3215ab1.pth") and len(report.skipped) == 2


def test_cached_weights_for_an_architecture_without_published_ones_is_an_error():
    with pytest.raises(FashionsegError, match="has no published weights to take from a cache"):
        check_recipe(tiny(arch="seed000-cnn", weights="pretrained"))


def test_unknown_timm_names_suggest_close_ones_before_any_run_folder(tmp_path, capsys, fashion_mnist_dir):
    assert main(["train", "seed000", "--arch", "timm:resnet10x", "--runs-dir", str(tmp_path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown architecture 'timm:resnet10x'. Did you mean 'timm:resnet10t'" in err
    assert "fashionseg list architectures 'timm:*'" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_a_model_too_deep_for_the_images_is_refused_before_any_run_folder(tmp_path, capsys, fashion_mnist_dir):
    # ConvNeXt's 4x4 stem and three 2x2 downsamplings leave 28x28 inputs with less than a kernel's width
    args = ["train", "seed000", "--arch", "timm:convnext_atto", "--limit", "64", "--bs", "32", "--runs-dir", str(tmp_path)]
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "architecture 'timm:convnext_atto' cannot take 1x28x28 inputs" in err and '--sizes "[[0, 64]]"' in err
    assert not list(tmp_path.iterdir())
    assert main([*args, "--sizes", "[[0, 64]]", "--epochs", "1", "--eval-limit", "32"]) == 0


def test_listing_timm_models_with_a_wildcard(capsys):
    assert main(["list", "architectures", "timm:resnet1*t", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["timm:resnet10t", "timm:resnet14t"]
    assert {r["plugin"] for r in rows} == {"architectures"} and rows[0]["task"] == "classification"
    assert "timm:resnet10t" not in registry().names("architecture")  # plain listings stay the registered ones


@pytest.mark.subprocess
def test_listing_architectures_imports_timm_only_for_a_timm_pattern():
    code = """if True:
        import contextlib, io, sys
        from fashionseg.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["list", "architectures"])
        print(sorted(m for m in ("torch", "timm") if m in sys.modules))
    """
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "[]"


class StopAfterSecondEpoch(Callback):
    """SIGTERM to this process at the end of the second epoch: the run stops as a user's Ctrl-C would."""

    def after_epoch(self):
        if self.epoch == 1:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.slow
def test_a_fine_tune_stopped_after_unfreezing_resumes_to_the_same_weights(fine_tuned, tmp_path, pretrained_file):
    """The resumed fit skips the frozen epoch and the unfreezing one, and keeps the optimizer state it restored."""
    result, _, _ = fine_tuned
    with pytest.raises(KeyboardInterrupt):
        run(tiny(weights=str(pretrained_file), freeze_epochs=1, epochs=3), tmp_path, Console(quiet=True),
            [StopAfterSecondEpoch()])
    (folder,) = tmp_path.iterdir()
    assert torch.load(folder / "last.pth", weights_only=True)["epochs_done"] == 2
    resumed = resume_run(folder, Console(quiet=True))
    assert resumed.results["accuracy"] == pytest.approx(result.results["accuracy"], abs=1e-6)
    reference = torch.load(result.run.path / "model.pth", weights_only=True)
    again = torch.load(folder / "model.pth", weights_only=True)
    assert all(torch.allclose(again[k].float(), v.float(), atol=1e-5) for k, v in reference.items())


class Rates(Callback):
    """Each training batch's (learning rate, momentum) per parameter group."""

    def before_fit(self):
        self.rows = getattr(self, "rows", [])

    def after_batch(self):
        if self.training:
            self.rows.append([(h["lr"], h["mom"]) for h in self.opt.hypers])


def test_the_one_fit_schedule_is_fastais_fine_tune():
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from torch.utils.data import TensorDataset

    from fashionseg.callbacks.finetune import body_head_splitter, fine_tune_callbacks

    def learner():
        torch.manual_seed(0)
        data = TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
        dls = DataLoaders.from_dsets(data, data, bs=16, num_workers=0)  # no worker processes forked each epoch
        model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 1))
        return Learner(dls, model, loss_func=torch.nn.functional.mse_loss, splitter=body_head_splitter("1", "mlp"),
                       cbs=Rates())

    theirs, ours = learner(), learner()
    with theirs.no_bar(), theirs.no_logging():
        theirs.fine_tune(3, base_lr=1e-2, freeze_epochs=2)
    with ours.no_bar(), ours.no_logging():
        ours.fit(5, 1e-2, cbs=fine_tune_callbacks(1e-2, 2, 5))
    assert len(ours.rates.rows) == len(theirs.rates.rows) == 5 * 4
    assert torch.allclose(torch.tensor(ours.rates.rows), torch.tensor(theirs.rates.rows), rtol=1e-5, atol=0)  # pct rounding only
