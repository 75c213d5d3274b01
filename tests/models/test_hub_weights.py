"""Weights from the hub through its real client, against a loopback server that answers like it: downloaded into
the cache once, read from the cache when the server is gone, and one clear line when they cannot be had."""
import pytest
import safetensors.torch
import timm
import torch
from helpers.fake_hub import fake_hub, point_hub

from fashionseg import FashionsegError, Recipe, create_model
from fashionseg.build.checks import check_recipe
from fashionseg.build.learner import pretrained_weights

SMALL = "resnet10t"  # timm publishes it as timm/resnet10t.c3_in1k


def recipe(**changes) -> Recipe:
    return Recipe(**{**dict(name="hub", dataset="fashion-mnist", arch=f"timm:{SMALL}", metrics=["accuracy"]), **changes})


def weights_folder(folder, n_classes=1000, in_chans=3, name=SMALL):
    """A hub-style folder holding a generated model.safetensors for resnet10t (or timm's `name`)."""
    torch.manual_seed(0)
    folder.mkdir(parents=True)
    model = timm.create_model(name, num_classes=n_classes, in_chans=in_chans)
    safetensors.torch.save_file(model.state_dict(), folder / "model.safetensors")
    return folder, model.state_dict()


def load(r: Recipe):
    model = create_model(r.arch, 10, 1)
    return pretrained_weights(r, check_recipe(r).arch, model), model


def test_published_weights_download_once_then_come_from_the_cache(tmp_path, monkeypatch):
    repo, source = weights_folder(tmp_path / "repo")
    cache = tmp_path / "cache"
    with fake_hub({"timm/resnet10t.c3_in1k": repo}) as (url, requests):
        point_hub(monkeypatch, cache, endpoint=url)
        report, model = load(recipe(weights="pretrained"))
    assert "GET /timm/resnet10t.c3_in1k/resolve/main/model.safetensors" in requests
    assert report.source.startswith(str(cache / "models--timm--resnet10t.c3_in1k"))
    assert len(report.adapted) == 1 and {s["tensor"] for s in report.skipped} == {"fc.weight", "fc.bias"}
    assert torch.equal(model.state_dict()["layer1.0.conv1.weight"], source["layer1.0.conv1.weight"])
    again, _ = load(recipe(weights="pretrained"))  # the server has stopped: the cache answers
    assert again.source == report.source and len(again.loaded) == len(report.loaded)


def test_hub_names_and_model_folders_are_weights(tmp_path, monkeypatch):
    repo, source = weights_folder(tmp_path / "repo", n_classes=10, in_chans=1)
    with fake_hub({"org/mine": repo}) as (url, _):
        point_hub(monkeypatch, tmp_path / "cache", endpoint=url)
        from_hub, model = load(recipe(weights="hf-hub:org/mine"))
        with pytest.raises(FashionsegError, match=r"weights \(model.safetensors of hf-hub:org/absent\) does not exist on http://127.0.0.1"):
            load(recipe(weights="hf-hub:org/absent"))
    from_folder, _ = load(recipe(weights=str(repo)))
    assert not from_hub.skipped and not from_hub.adapted and len(from_folder.loaded) == len(from_hub.loaded)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in source.items())
    with pytest.raises(FashionsegError, match="holds none of model.safetensors, pytorch_model.bin"):
        load(recipe(weights=str(tmp_path)))


def test_a_hub_name_offline_and_not_cached_is_one_line(tmp_path, monkeypatch):
    point_hub(monkeypatch, tmp_path / "cache", offline=True)
    with pytest.raises(FashionsegError) as caught:
        load(recipe(weights="hf-hub:org/mine"))
    message = str(caught.value)
    assert "\n" not in message and "weights (model.safetensors of hf-hub:org/mine)" in message and str(tmp_path / "cache") in message
    assert "HF_HUB_OFFLINE is set" in message and "hf download org/mine" in message


def test_the_data_is_normalised_as_the_weights_were_trained(tmp_path, monkeypatch, fashion_mnist_dir):
    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

    from fashionseg.build.learner import build_learner
    from fashionseg.data import applied_stats

    repo, _ = weights_folder(tmp_path / "repo")
    small = dict(limit=64, eval_limit=32, bs=32, data_options={"path": str(fashion_mnist_dir)})
    with fake_hub({"timm/resnet10t.c3_in1k": repo}) as (url, _):
        point_hub(monkeypatch, tmp_path / "cache", endpoint=url)
        data = build_learner(recipe(weights="pretrained", **small)).data
    grey = ([sum(IMAGENET_DEFAULT_MEAN) / 3], [sum(IMAGENET_DEFAULT_STD) / 3])  # RGB statistics for a summed stem
    assert data.stats[0] == pytest.approx(grey[0]) and data.stats[1] == pytest.approx(grey[1])
    assert applied_stats(data.dls)[0] == pytest.approx(grey[0])  # the batches, not only data.json
    scratch = build_learner(recipe(**small)).data
    assert scratch.stats[0] == pytest.approx([0.286], abs=1e-3)  # from scratch: the data's own


def test_smp_encoders_start_from_smps_published_weights(tmp_path, monkeypatch):
    import segmentation_models_pytorch as smp
    from helpers.runs import mask_folder_recipe
    from helpers.seg_folders import make_root

    from fashionseg.build.learner import build_learner

    torch.manual_seed(0)
    encoder = smp.Unet("resnet18", encoder_weights=None).encoder
    repo = tmp_path / "repo"
    repo.mkdir()
    safetensors.torch.save_file(encoder.state_dict(), repo / "model.safetensors")
    seg = mask_folder_recipe(make_root(tmp_path / "masks", n_train=8, n_test=4)).override(
        arch="unet", arch_options={"encoder": "resnet18", "decoder_channels": [16, 8, 8]}, weights="pretrained")
    with fake_hub({"smp-hub/resnet18.imagenet": repo}) as (url, requests):
        point_hub(monkeypatch, tmp_path / "cache", endpoint=url)
        built = build_learner(seg)
    assert any(r.endswith("/model.safetensors") and r.startswith("GET /smp-hub/resnet18.imagenet/") for r in requests)
    loaded = built.learn.model.net.encoder.state_dict()
    assert torch.equal(loaded["layer2.0.conv1.weight"], encoder.state_dict()["layer2.0.conv1.weight"])
    assert built.data.stats[0] == pytest.approx([0.485, 0.456, 0.406])


def test_the_resnet_fcn_trunk_starts_from_torchvisions_weights_through_torch_hub(tmp_path, monkeypatch):
    import torchvision
    from helpers.fake_hub import serve_files

    torch.manual_seed(0)
    source = torchvision.models.resnet18(weights=None).state_dict()
    (tmp_path / "files").mkdir()
    torch.save(source, tmp_path / "files" / "resnet18-test.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with serve_files(tmp_path / "files") as url:
        monkeypatch.setattr("fashionseg_plugins.architectures.resnet_fcn.IMAGENET_URL", f"{url}/resnet18-test.pth")
        model = create_model("resnet18-fcn", 5, 1, trunk_weights="imagenet")
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-test.pth"
    assert cached.is_file() and torch.equal(model.trunk[4][0].conv1.weight, source["layer1.0.conv1.weight"])
    assert torch.allclose(model.trunk[0].weight, source["conv1.weight"].sum(1, keepdim=True))  # the grey stem
    again = create_model("resnet18-fcn", 5, 1, trunk_weights="imagenet")  # the server is gone: torch hub's cache answers
    assert torch.equal(again.trunk[4][0].conv1.weight, model.trunk[4][0].conv1.weight)
    cached.unlink()
    with pytest.raises(FashionsegError, match=r"ImageNet weights for the ResNet-18 trunk are not in the torch hub cache"):
        create_model("resnet18-fcn", 5, 1, trunk_weights="imagenet")


def test_fcn32s_features_start_from_torchvisions_vgg(tmp_path, monkeypatch):
    import torchvision
    from fashionseg_plugins.architectures import vgg_fcn
    from helpers.fake_hub import serve_files

    torch.manual_seed(0)
    source = torchvision.models.vgg16_bn(weights=None).features.state_dict()
    (tmp_path / "files").mkdir()
    torch.save({f"features.{k}": v for k, v in source.items()}, tmp_path / "files" / "vgg16_bn-test.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with serve_files(tmp_path / "files") as url:
        monkeypatch.setitem(vgg_fcn.IMAGENET_URLS, True, f"{url}/vgg16_bn-test.pth")
        model = create_model("fcn32s", 5, 3, fc_channels=16, features_weights="imagenet")
    assert torch.equal(model.net[0][3].weight, source["3.weight"])


@pytest.mark.parametrize("name, repo_id", [("resnet10t", "timm/resnet10t.c3_in1k"),
                                           ("convnext_atto", "timm/convnext_atto.d2_in1k")])
def test_a_timm_encoder_of_the_unet_starts_from_timms_published_weights(name, repo_id, tmp_path, monkeypatch, capsys):
    """`unet` with encoder `tu-<name>` and `--weights pretrained`: timm's own repository is fetched and every
    tensor of the features-only encoder loads (convnext's `stem.0` is the encoder's `stem_0`); the classifier,
    which the encoder has not, is reported skipped."""
    repo, source = weights_folder(tmp_path / "repo", name=name)
    with fake_hub({repo_id: repo}) as (url, requests):
        point_hub(monkeypatch, tmp_path / "cache", endpoint=url)
        model = create_model("unet", 3, 3, encoder=f"tu-{name}", decoder_channels=[16, 8, 8, 8, 8],
                             encoder_weights="imagenet")
    assert f"GET /{repo_id}/resolve/main/model.safetensors" in requests
    encoder = model.net.encoder.model.state_dict()
    by_norm = {k.replace("_", "."): v for k, v in source.items()}
    assert all(torch.equal(v, by_norm[k.replace("_", ".")]) for k, v in encoder.items())
    report = capsys.readouterr().out
    assert f"{len(encoder)} tensors loaded, 0 adapted, {len(source) - len(encoder)} skipped" in report
    assert "in the file but not in the model" in report and "kept as initialised" not in report
