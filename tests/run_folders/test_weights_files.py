"""A finished run keeps its model as model.pth and model.safetensors; either one alone is enough to load it."""
import pytest
import torch
from helpers.runs import copy_run
from safetensors.torch import load_file

import fashionseg
from fashionseg import FashionsegError


def test_a_finished_run_writes_the_same_weights_as_safetensors(fashion):
    folder = fashion[0].run.path
    pth, st = torch.load(folder / "model.pth", weights_only=True), load_file(folder / "model.safetensors")
    assert pth.keys() == st.keys() and all(torch.equal(pth[k], st[k]) for k in pth)


def test_a_folder_with_only_safetensors_predicts_as_the_run_does(fashion, tmp_path):
    result, images, _ = fashion
    folder = copy_run(result.run.path, tmp_path)
    (folder / "model.pth").unlink()
    expected = [p[1] for p in fashionseg.load_run(result.run.path, on=torch.device("cpu")).predict(images[:20])]
    assert [p[1] for p in fashionseg.load_run(folder, on=torch.device("cpu")).predict(images[:20])] == expected


def test_a_folder_without_weights_says_the_run_did_not_finish_and_how_to_resume(fashion, tmp_path):
    folder = copy_run(fashion[0].run.path, tmp_path)
    (folder / "model.pth").unlink()
    (folder / "model.safetensors").unlink()
    with pytest.raises(FashionsegError, match=r"no trained weights \(model.pth or model.safetensors\).*--resume"):
        fashionseg.load_run(folder)


def test_a_broken_safetensors_file_is_one_error_naming_it(fashion, tmp_path):
    folder = copy_run(fashion[0].run.path, tmp_path)
    (folder / "model.pth").unlink()
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(FashionsegError, match="model.safetensors is truncated or not a safetensors file"):
        fashionseg.load_run(folder)
