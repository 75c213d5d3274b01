"""`fashionseg export RUN --format hf`: a Hugging Face-style folder that `load_run` reads from disk or from a
(loopback) hub like the run itself, whose card says what the run did, and which plain timm loads for timm models."""
import inspect
import json
import os
import subprocess
import sys

import pytest
import torch
import yaml
from helpers.fake_hub import fake_hub
from helpers.runs import train
from PIL import Image

import fashionseg
from fashionseg import Recipe
from fashionseg.cli import main
from fashionseg.data import fashion_mnist

CPU = torch.device("cpu")

def probe(repo: str, paths: list[str]) -> dict:
    """`repo`'s predictions on the images at `paths` through fashionseg and, for a timm model, plain timm."""
    import numpy as np
    import timm
    import torch
    from PIL import Image

    import fashionseg

    images = [Image.open(p) for p in paths]
    run = fashionseg.load_run(repo, on=torch.device("cpu"))
    out = {"fashionseg": [p[1] for p in run.predict(images)], "path": str(run.path)}
    if run.recipe.arch.startswith("timm:"):
        model = timm.create_model(repo if repo.startswith("hf-hub:") else "local-dir:" + repo, pretrained=True).eval()
        x = torch.stack([torch.from_numpy(np.array(i)).float()[None] / 255 for i in images])
        mean, std = model.pretrained_cfg["mean"], model.pretrained_cfg["std"]
        out["timm"] = model((x - mean[0]) / std[0]).argmax(1).tolist()
    return out


# the probe in a fresh process, for what huggingface_hub reads from the environment once, at import
HUB_PROBE = f"import json, sys\n{inspect.getsource(probe)}\nprint(json.dumps(probe(sys.argv[1], sys.argv[2:])))"


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def pngs(images, folder) -> list:
    folder.mkdir(exist_ok=True)
    paths = [folder / f"{i}.png" for i in range(len(images))]
    for image, path in zip(images, paths):
        Image.fromarray(image.numpy()).save(path)
    return paths


@pytest.fixture(scope="module")
def timm_run(fashion_mnist_dir, tmp_path_factory):
    """timm's smallest ResNet (`timm:test_resnet`), one epoch on 256 Fashion-MNIST images."""
    recipe = Recipe(name="tiny-timm", dataset="fashion-mnist", arch="timm:test_resnet",
                    metrics=["accuracy", "per-class-accuracy"],
                    epochs=1, lr=3e-3, bs=64, limit=256, eval_limit=64, data_options={"path": str(fashion_mnist_dir)})
    return train(recipe, tmp_path_factory.mktemp("timm-runs")).run.path


def test_the_folder_holds_weights_config_preprocessing_and_a_card(fashion, tmp_path):
    result, images, _ = fashion
    out = tmp_path / "model"
    assert main(["export", str(result.run.path), "--format", "hf", "--out", str(out)]) == 0
    assert {"model.safetensors", "config.json", "preprocessing.json", "README.md"} <= {p.name for p in out.iterdir()}
    config = json.loads((out / "config.json").read_text())
    assert config["architecture"] == "seed000-cnn" and config["task"] == "classification"
    assert config["classes"] == list(fashion_mnist.CLASSES) and config["input_size"] == [1, 28, 28]
    assert config["mean"] == pytest.approx([0.286], abs=1e-3) and config["std"] == pytest.approx([0.353], abs=1e-3)
    prep = json.loads((out / "preprocessing.json").read_text())
    assert prep["resize"]["size"] == [28, 28] and prep["mean"] == config["mean"]

    card = (out / "README.md").read_text()
    meta = front_matter(card)
    accuracy = json.loads((result.run.path / "metrics.json").read_text())["accuracy"]
    assert meta["library_name"] == "fashionseg" and meta["pipeline_tag"] == "image-classification"
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    assert {"type": "accuracy", "value": accuracy} in metrics and len({m["type"] for m in metrics}) == len(metrics)
    for heading in ("## Classes", "## Test metrics", "## Training data and settings", "## Figures",
                    "## Intended use and limits", "## How to load it", "hf upload ORG/NAME"):
        assert heading in card
    assert f"| accuracy | {accuracy:.4f} |" in card and "| 9 | Ankle boot |" in card
    assert str(result.run.path.parent) not in card, "the card must not give away local paths"


def test_figures_showing_data_items_leave_only_with_examples(timm_run, tmp_path):
    run = str(timm_run)
    assert main(["export", run, "--format", "hf", "--out", str(tmp_path / "plain")]) == 0
    assert main(["export", run, "--format", "hf", "--out", str(tmp_path / "all"), "--with-examples"]) == 0
    plain = {p.name for p in (tmp_path / "plain" / "figures").iterdir()}
    every = {p.name for p in (tmp_path / "all" / "figures").iterdir()}
    assert {"loss_curves.png", "confusion_matrix.png"} <= plain and "top_losses.png" not in plain
    assert plain < every and "top_losses.png" in every
    card = (tmp_path / "plain" / "README.md").read_text()
    assert "figures/loss_curves.png" in card and "top_losses" not in card and "## Per class" in card


def test_the_folder_predicts_as_the_run_does(fashion, tmp_path):
    result, images, _ = fashion
    out = tmp_path / "model"
    assert main(["export", str(result.run.path), "--format", "hf", "--out", str(out)]) == 0
    from_run = fashionseg.load_run(result.run.path, on=CPU)
    from_folder = fashionseg.load_run(out, on=CPU)
    assert type(from_folder) is type(from_run) and from_folder.classes == from_run.classes
    assert from_folder.summary == from_run.summary and from_folder.recipe == from_run.recipe
    assert [p[1] for p in from_folder.predict(list(images[:50]))] == [p[1] for p in from_run.predict(list(images[:50]))]


def test_an_out_folder_that_is_not_empty_is_one_error_and_nothing_is_written(fashion, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    assert main(["export", str(fashion[0].run.path), "--format", "hf", "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not empty" in err and "new or empty folder" in err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


def hub_run(repo: str, images, env: dict, cwd) -> dict:
    done = subprocess.run([sys.executable, "-c", HUB_PROBE, repo, *map(str, images)], capture_output=True, text=True,
                          timeout=180, env={**os.environ, **env}, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_timm_folder_loads_from_the_hub_with_fashionseg_and_plain_timm_and_then_from_the_cache(
        timm_run, fashion, tmp_path):
    out = tmp_path / "model"
    assert main(["export", str(timm_run), "--format", "hf", "--out", str(out)]) == 0
    assert front_matter((out / "README.md").read_text())["library_name"] == "timm"
    images = pngs(fashion[1][:16], tmp_path / "images")
    expected = [p[1] for p in fashionseg.load_run(timm_run, on=CPU).predict(images)]
    env = {"HF_HOME": str(tmp_path / "hf-home")}
    with fake_hub({"org/tiny-timm": out}) as (url, requests):
        first = hub_run("hf-hub:org/tiny-timm", images, {**env, "HF_ENDPOINT": url}, tmp_path)
    assert any("/resolve/" in r and r.endswith("model.safetensors") for r in requests)
    assert first["fashionseg"] == first["timm"] == expected
    assert first["path"].startswith(str(tmp_path / "hf-home" / "hub" / "models--org--tiny-timm"))
    again = hub_run("hf-hub:org/tiny-timm", images, {**env, "HF_ENDPOINT": url, "HF_HUB_OFFLINE": "1"}, tmp_path)
    assert again == first  # the server is gone: the cache answers
    local = probe(str(out), images)  # the local folder too, with fashionseg and with timm
    assert local["fashionseg"] == local["timm"] == expected


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_hub_model_not_cached_offline_is_one_error_naming_it_the_cache_and_how_to_fetch(fashion, tmp_path):
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "1"}
    image = pngs(fashion[1][:1], tmp_path / "images")[0]
    done = subprocess.run([sys.executable, "-m", "fashionseg", "predict", "hf-hub:org/absent", str(image)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    err = done.stderr.strip()
    assert done.returncode == 2 and len(err.splitlines()) == 1, err
    for words in ("hf-hub:org/absent", str(tmp_path / "hf-home" / "hub"), "HF_HUB_OFFLINE", "hf download org/absent"):
        assert words in err
