"""Provenance: what produced a run's numbers, recorded without importing the libraries it names."""
import shutil
import socket
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path

import pytest
import torch

import fashionseg
from fashionseg.report import provenance as prov_module
from fashionseg.report.provenance import provenance, provenance_markdown

REPO = Path(fashionseg.__file__).resolve().parent.parent


def test_provenance_names_versions_device_threads_and_host():
    prov = provenance(device=torch.device("cpu"))
    datetime.fromisoformat(prov["date"])
    assert prov["fashionseg"] == fashionseg.__version__
    assert (prov["torch"], prov["fastai"], prov["timm"]) == tuple(metadata.version(p) for p in ("torch", "fastai", "timm"))
    assert (prov["device"], prov["torch_threads"], prov["host"]) == ("cpu", torch.get_num_threads(), socket.gethostname())


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout")
def test_a_checkout_records_its_commit_and_whether_it_has_changes():
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    changes = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True).stdout.strip()
    prov = provenance()
    assert (prov["git_commit"], prov["git_dirty"]) == (head, bool(changes))


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_copy_inside_some_other_repository_claims_no_commit(monkeypatch, tmp_path):
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "README").write_text("another project")
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    (tmp_path / "__init__.py").write_text("")  # untracked, like a package in a venv inside a checkout
    monkeypatch.setattr(prov_module, "__file__", str(tmp_path / "provenance.py"))
    assert prov_module.git_commit() == {}


def test_without_git_there_is_no_commit_and_no_error(monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", missing)
    prov = provenance()
    assert "git_commit" not in prov and prov["fashionseg"] == fashionseg.__version__


def test_the_report_section_shows_the_record_and_each_components_plugin():
    prov = {"date": "2025-01-01T12:00:00+00:00", "fashionseg": "0.1.0", "git_commit": "0123456789abcdef",
            "git_dirty": True, "python": "3.11.9", "torch": "2.5.1", "fastai": "2.8.1", "timm": None,
            "device": "cuda:0 (NVIDIA H100)", "torch_threads": 16, "host": "node-1"}
    lines = provenance_markdown(prov, {"architecture seed000-cnn": "fashion-cnns", "dataset fashion-mnist": "fashion-mnist"})
    assert lines[0] == "## Provenance"
    assert "| fashionseg | 0.1.0 (git 0123456789, uncommitted changes) |" in lines
    assert {"| torch | 2.5.1 |", "| device | cuda:0 (NVIDIA H100) |", "| torch threads | 16 |"} <= set(lines)
    assert not any(line.startswith("| timm") for line in lines)  # not installed: left out
    assert lines[-3:] == ["| --- | --- |", "| architecture seed000-cnn | fashion-cnns |",
                          "| dataset fashion-mnist | fashion-mnist |"]
