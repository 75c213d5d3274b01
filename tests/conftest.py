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
