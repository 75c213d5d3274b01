"""`fashionseg demo` and `export --format space`: the Gradio app, called through gradio_client on loopback, answers
what `fashionseg predict` answers; a Space folder runs with `python app.py`."""
import csv
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from helpers.runs import copy_run
from PIL import Image

import fashionseg
from fashionseg.cli import build_parser, main

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
CPU = torch.device("cpu")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_csv(run, image, tmp_path) -> dict:
    """`fashionseg predict RUN IMAGE --csv`: the row for the image."""
    out = tmp_path / "predicted.csv"
    assert main(["predict", str(run), str(image), "--csv", str(out), "--top-k", "5"]) == 0
    with open(out, newline="") as f:
        return next(csv.DictReader(f))


@pytest.fixture
def served():
    """`serve(run)`: the demo of `run` on a free loopback port and a gradio_client for it; closed afterwards."""
    from gradio_client import Client

    from fashionseg.infer.demo import launch

    apps = []

    def serve(run, examples=None):
        port = free_port()
        apps.append(launch(fashionseg.load_run(run, on=CPU), port=port, block=False, examples=examples))
        assert apps[-1].server_name == "127.0.0.1"
        return Client(f"http://127.0.0.1:{port}/", verbose=False)

    yield serve
    for app in apps:
        app.close()


def test_the_classification_demo_answers_as_predict_does(fashion, served, tmp_path):
    result, images, _ = fashion
    image = tmp_path / "shoe.png"
    Image.fromarray(images[0].numpy()).save(image)
    from gradio_client import handle_file

    label, overlay = served(result.run.path, examples=[]).predict(handle_file(str(image)), 0.5, api_name="/predict")
    row = cli_csv(result.run.path, image, tmp_path)
    assert label["label"] == row["label_1"]
    shown = [(c["label"], c["confidence"]) for c in label["confidences"]]
    assert [name for name, _ in shown] == [row[f"label_{i}"] for i in range(1, 6)]
    assert [p for _, p in shown] == pytest.approx([float(row[f"prob_{i}"]) for i in range(1, 6)], abs=1e-6)
    assert overlay is None  # seed000-cnn has no class-map head


def test_the_segmentation_demo_overlays_the_mask_predict_draws(mask_run, served, tmp_path):
    root, _, result = mask_run
    image = sorted((root / "test").glob("*[0-9].png"))[0]
    from gradio_client import handle_file

    shares, overlay = served(result.run.path, examples=[]).predict(handle_file(str(image)), 1.0, api_name="/predict")
    row = cli_csv(result.run.path, image, tmp_path)
    got = {c["label"]: c["confidence"] for c in shares["confidences"]}
    assert got == pytest.approx({k[len("share_"):]: float(v) for k, v in row.items() if k.startswith("share_")})
    assert main(["predict", str(result.run.path), str(image), "--out", str(tmp_path / "mask.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(overlay).convert("RGB")),
                          np.asarray(Image.open(tmp_path / "mask.png").convert("RGB")))


def test_a_cam_architecture_shows_its_class_map_and_examples_come_from_the_test_set(tiny_run, served, tmp_path):
    from gradio_client import handle_file

    from fashionseg.infer.demo import test_examples

    examples = test_examples(fashionseg.load_run(tiny_run, on=CPU), tmp_path, n=2)
    assert len(examples) == 2
    label, overlay = served(tiny_run, examples=examples).predict(handle_file(examples[0]), 0.5, api_name="/predict")
    assert label["label"] in fashionseg.load_run(tiny_run, on=CPU).classes
    assert np.asarray(Image.open(overlay)).shape[:2] == Image.open(examples[0]).size[::-1]


def test_the_demo_binds_loopback_by_default_and_missing_gradio_is_one_line(fashion, monkeypatch, capsys):
    args = build_parser().parse_args(["demo", "some-run"])
    assert args.host == "127.0.0.1"
    monkeypatch.setitem(sys.modules, "gradio", None)
    assert main(["demo", str(fashion[0].run.path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'fashionseg[demo]'" in err


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_space_folder_runs_with_python_app_py(fashion, tmp_path):
    from gradio_client import Client, handle_file

    result, images, _ = fashion
    run = copy_run(result.run.path, tmp_path)
    space = tmp_path / "space"
    assert main(["export", str(run), "--format", "space", "--out", str(space), "--with-examples"]) == 0
    assert {"app.py", "requirements.txt", "README.md", "model", "examples"} <= {p.name for p in space.iterdir()}
    assert "sdk: gradio" in (space / "README.md").read_text() and (space / "model" / "model.safetensors").is_file()
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_SERVER_NAME", None)
    app = subprocess.Popen([sys.executable, "app.py"], cwd=space, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        client = connect(Client, f"http://127.0.0.1:{port}/", app)
        example = sorted((space / "examples").glob("*.png"))[0]
        label, _ = client.predict(handle_file(str(example)), 0.5, api_name="/predict")
        assert label["label"] == cli_csv(run, example, tmp_path)["label_1"]
    finally:
        app.terminate()
        app.wait(timeout=30)


def connect(client_type, url, app, timeout=120):
    """A client once the app answers (it imports torch and fastai first)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert app.poll() is None, app.stdout.read()
        try:
            return client_type(url, verbose=False)
        except Exception:
            time.sleep(1)
    raise AssertionError(f"the Space app did not answer on {url} within {timeout} s")
