"""Where tests find real data sets; imported by conftest.py and by tests that need a path or the repository."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEV_DATA = REPO.parent / "shared" / "data"


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
