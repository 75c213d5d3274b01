"""Shared fixtures: real data from ../shared/data (or $FASHIONSEG_DATA), run folders in tmp."""
import os
from pathlib import Path

import pytest
from testdata import DEV_DATA, need_data

if not os.environ.get("FASHIONSEG_DATA") and DEV_DATA.is_dir():
    os.environ["FASHIONSEG_DATA"] = str(DEV_DATA)


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    from fashionseg.data.fashion_mnist import FILES

    return need_data("fashion-mnist", list(FILES))


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    """Every place fashionseg looks for data points into an empty temporary folder."""
    monkeypatch.setenv("FASHIONSEG_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("fashionseg.data.locate.SYSTEM_ROOT", tmp_path / "system")
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    return tmp_path
