"""Every mistake a user can make is one line naming the file or setting and what to do: exit code 2
through the CLI, no run folder left behind, earlier files untouched. One representative per kind."""
import argparse
import errno
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.data import REPO
import torch
from PIL import Image

from fashionseg import FashionsegError, Recipe, create_model
from fashionseg.data import fashion_mnist
from fashionseg.cli import main
from fashionseg.data.images import read_image
from fashionseg.infer.trained import load_run
from fashionseg.models.weights import load_pretrained
from fashionseg.run_folders.folder import RunFolder
from fashionseg.utils.files import atomic_write


def cli(*args):
    """`fashionseg ARGS` in a new process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "fashionseg.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "COLUMNS": "80"}, timeout=300)


def in_process(capsys, *args):
    """`fashionseg ARGS` through the CLI's `main` in this process (no start-up of torch in a new process): what
    `cli` returns. A real process per command is kept where it says something more (stray output, the exit)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def assert_one_line_error(res, *needles):
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for needle in needles:
        assert needle in lines[0]


def write_idx(path: Path, array: np.ndarray):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def idx_folder(folder: Path, n_train=20, n_train_labels=20, top_label=9) -> Path:
    """Four small Fashion-MNIST IDX files; labels cycle through 0..top_label."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, n, n_labels in (("train", n_train, n_train_labels), ("t10k", 10, 10)):
        write_idx(folder / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, 28, 28)))
        write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", np.arange(n_labels) % (top_label + 1))
    return folder


# ---------------------------------------------------------------- settings, through the CLI
def test_settings_out_of_range_stop_before_any_run_folder(tmp_path, fashion_mnist_dir, capsys):
    train = ["train", "fashion-fast", "--epochs", "1", "--runs-dir", tmp_path / "runs"]
    assert_one_line_error(in_process(capsys, *train, "--label-smoothing", "1"),
                          "label_smoothing must be at least 0 and below 1")
    assert_one_line_error(in_process(capsys, *train, "--limit", "100", "--set", "loss_options.weight=[1, 2, 3]"),
                          "loss_options.weight has 3 values but data set 'fashion-mnist' has 10 classes")
    assert_one_line_error(in_process(capsys, *train, "--limit", "100", "--bs", "256"),
                          "bs 256 is larger than the 100 training items", "lower --bs")
    assert not (tmp_path / "runs").exists()


def test_label_smoothing_is_checked_wherever_a_recipe_is_made():
    with pytest.raises(FashionsegError, match="label_smoothing"):
        Recipe(name="x", dataset="fashion-mnist", arch="basenet", label_smoothing=-0.1)


# ---------------------------------------------------------------- IDX files
def test_images_and_labels_that_do_not_pair_up_are_refused_not_trained_on(tmp_path, capsys):
    data = idx_folder(tmp_path / "fm", n_train=20, n_train_labels=19)
    res = in_process(capsys, "train", "fashion-fast", "--epochs", "1", "--runs-dir", tmp_path / "runs",
              "--set", f"data_options.path={data}")
    assert_one_line_error(res, "train-images-idx3-ubyte.gz holds 20 images but", "holds 19 labels")
    assert not (tmp_path / "runs").exists()


def test_labels_outside_the_classes_and_arrays_of_the_wrong_shape_name_the_file(tmp_path):
    with pytest.raises(FashionsegError, match=r"train-labels-idx1-ubyte.gz gives item 10 label 10, but there are "
                                              r"10 classes \(0-9\)"):
        fashion_mnist.load(idx_folder(tmp_path / "labels", top_label=10))
    folder = idx_folder(tmp_path / "shape")
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((10, 784)))
    with pytest.raises(FashionsegError, match=r"t10k-images-idx3-ubyte.gz holds an array of shape \(10, 784\), "
                                              r"not 3-dimensional"):
        fashion_mnist.load(folder)


# ---------------------------------------------------------------- weights
@pytest.fixture
def fake_run(tmp_path) -> Path:
    """A run folder as training leaves it (config.json, data.json, model.pth) with untrained basenet weights."""
    run = tmp_path / "runs" / "basenet-1"
    run.mkdir(parents=True)
    recipe = Recipe(name="basenet", dataset="fashion-mnist", arch="basenet", metrics=["accuracy"])
    (run / "config.json").write_text(json.dumps(recipe.to_dict()))
    (run / "data.json").write_text(json.dumps({"task": "classification", "classes": fashion_mnist.CLASSES,
                                               "n_in": 1, "input_size": [28, 28], "stats": [[0.286], [0.353]]}))
    torch.save(create_model("basenet", 10, 1).state_dict(), run / "model.pth")
    return run


def test_truncated_or_foreign_weights_files_are_one_line(fake_run):
    weights = fake_run / "model.pth"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(FashionsegError, match=r"model.pth is truncated or not a torch weights file \(.*\); "
                                              r"train the run again$"):
        load_run(fake_run, on="cpu")
    weights.write_text("not weights at all")
    with pytest.raises(FashionsegError, match="model.pth is truncated or not a torch weights file"):
        load_run(fake_run, on="cpu")


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_refused_weights_file_says_why_through_the_cli_and_never_suggests_weights_only_off(fake_run, tmp_path):
    torch.save({"conv.weight": torch.zeros(1), "args": argparse.Namespace(lr=1)}, fake_run / "model.pth")
    Image.new("L", (28, 28)).save(tmp_path / "shirt.png")
    res = cli("predict", fake_run, tmp_path / "shirt.png")
    assert_one_line_error(res, "model.pth was refused: it holds an object of type argparse.Namespace",
                          "no code in a file ever runs")
    assert "weights_only" not in res.stderr and "trust" not in res.stderr
    with pytest.raises(FashionsegError, match="was refused: it holds an object of type argparse.Namespace"):
        load_pretrained(create_model("basenet", 10, 1), fake_run / "model.pth")


def test_a_config_that_does_not_fit_the_weights_names_the_run_and_the_mismatch(fake_run):
    config = json.loads((fake_run / "config.json").read_text())
    (fake_run / "config.json").write_text(json.dumps({**config, "arch": "seed000-cnn"}))
    with pytest.raises(FashionsegError) as caught:
        load_run(fake_run, on="cpu")
    message = str(caught.value)
    assert f"{fake_run / 'model.pth'} does not fit the" in message and str(fake_run / "config.json") in message
    assert "missing, e.g." in message and "unexpected, e.g." in message and "\n" not in message


def test_fastai_checkpoints_with_optimizer_state_load_their_model(fake_run):
    state = create_model("basenet", 10, 1).state_dict()
    torch.save({"model": state, "opt": {"state": {}}}, fake_run / "last.pth")
    model = RunFolder.open(fake_run).load_weights(create_model("basenet", 10, 1), "last.pth")
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


# ---------------------------------------------------------------- images
def test_a_decompression_bomb_is_refused_naming_the_file(tmp_path, monkeypatch):
    Image.new("RGB", (200, 100)).save(tmp_path / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5_000)  # 20,000 pixels: more than twice the limit
    with pytest.raises(FashionsegError, match=r"huge.png has 20,000 pixels, more than twice PIL's limit of 5,000, "
                                              r"so it is refused as a possible decompression bomb; shrink the image"):
        read_image(tmp_path / "huge.png")


# ---------------------------------------------------------------- output paths and the disk
def test_output_paths_that_are_folders_or_under_a_file(tmp_path, fake_run, capsys):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FashionsegError, match=r"a-file/out.png: .*a-file is a file, not a folder"):
        atomic_write(tmp_path / "a-file" / "out.png", "data")
    with pytest.raises(FashionsegError, match="it is a folder"):
        atomic_write(tmp_path, "data")
    Image.new("L", (28, 28)).save(tmp_path / "shirt.png")
    res = in_process(capsys, "predict", fake_run, tmp_path / "shirt.png", "--out", tmp_path)
    assert_one_line_error(res, f"--out {tmp_path} is a folder; name a file in it")


def test_a_full_disk_names_the_file_and_keeps_the_one_before(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    target.write_text("earlier results")

    class FullDisk(io.FileIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullDisk(fd, "w"))
    with pytest.raises(FashionsegError, match=f"cannot write {target}: the disk is full; free some space"):
        atomic_write(target, "new results")
    assert target.read_text() == "earlier results" and os.listdir(tmp_path) == ["metrics.json"]


def test_a_runs_dir_that_is_a_file_stops_the_cli_with_nothing_written(tmp_path, capsys):
    (tmp_path / "runs").write_text("not a folder")
    res = in_process(capsys, "train", "fashion-fast", "--epochs", "1", "--limit", "100", "--bs", "50",
                     "--runs-dir", tmp_path / "runs")
    assert_one_line_error(res, f"runs dir {tmp_path / 'runs'} is a file, not a folder")
    assert (tmp_path / "runs").read_text() == "not a folder"


@pytest.mark.parametrize("refused", ["x-", "figures"])  # the run folder itself (unwritable runs dir), its figures/
def test_an_unwritable_runs_dir_leaves_no_run_folder(tmp_path, monkeypatch, refused):
    mkdir = Path.mkdir

    def unwritable(self, *args, **kwargs):
        if self.name.startswith(refused):
            raise PermissionError(errno.EACCES, "Permission denied")
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", unwritable)
    with pytest.raises(FashionsegError, match=r"cannot make a run folder in .*runs: Permission denied; pass"):
        RunFolder.create(tmp_path / "runs", "x")
    assert list((tmp_path / "runs").iterdir()) == []


# ---------------------------------------------------------------- printing
def test_error_messages_print_verbatim_not_as_markup(tmp_path, capsys):
    odd = tmp_path / "[/b]runs [epoch, size]"
    odd.mkdir(parents=True)  # a folder "[" holding "b]runs [epoch, size]"
    res = in_process(capsys, "predict", odd, "x.png")
    assert_one_line_error(res, f"{odd} is not a run folder")
    res = in_process(capsys, "train", "fashion-fast", "--sizes", "[[1]]", "--runs-dir", tmp_path / "runs")
    assert_one_line_error(res, "sizes takes [[epoch, size], ...], e.g. [[0, 128], [8, 256]]; got entry [1]")
