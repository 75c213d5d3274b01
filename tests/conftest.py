"""Shared fixtures: real data from ../shared/data (or $FASHIONSEG_DATA), run folders in tmp."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEV_DATA = REPO.parent / "shared" / "data"

if not os.environ.get("FASHIONSEG_DATA") and DEV_DATA.is_dir():
    os.environ["FASHIONSEG_DATA"] = str(DEV_DATA)


def need_data(name: str, required: list[str]) -> Path:
    """The folder holding data set `name`; skips outside CI when absent, fails under CI."""
    from fashionseg.data.locate import candidate_dirs, find_data

    folder = find_data(name, required)
    if folder is None:
        looked = ", ".join(str(d) for d in candidate_dirs(name))
        message = f"{name} data not found (looked in {looked})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    from fashionseg.data.fashion_mnist import FILES

    return need_data("fashion-mnist", list(FILES))


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    return tmp_path / "runs"
