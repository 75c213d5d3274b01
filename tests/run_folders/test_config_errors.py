"""A run folder whose config.json holds a wrong value: every command that reads it says which file and
which setting, in one line with exit code 2, and no traceback."""
import json
import subprocess
import sys

import pytest

from fashionseg import FashionsegError, Recipe
from fashionseg.cli import main
from fashionseg.run_folders.folder import RunFolder


@pytest.fixture
def bad_run(tmp_path):
    folder = tmp_path / "runs" / "bad-20260101-000000"
    folder.mkdir(parents=True)
    config = Recipe(name="bad", dataset="fashion-mnist", arch="seed000-cnn").to_dict()
    (folder / "config.json").write_text(json.dumps({**config, "lr": "fast"}))
    (folder / "data.json").write_text(json.dumps({"task": "classification", "classes": ["a", "b"], "n_in": 1}))
    (folder / "status.json").write_text(json.dumps({"state": "interrupted"}))
    return folder


def expected_error(bad_run) -> list[str]:
    return [f"error: {bad_run / 'config.json'}: lr must be a float, got 'fast'; correct it or restore the run's own "
            "config.json"]


@pytest.mark.slow
@pytest.mark.parametrize("command", [["predict", "{run}", "{run}/x.png"], ["export", "{run}"],
                                     ["train", "--resume", "{run}"], ["train", "--from", "{run}"],
                                     ["train", "{run}/config.json"]])
def test_a_bad_value_in_config_json_is_one_line_naming_the_file_and_setting(bad_run, command, capsys):
    assert main([a.format(run=bad_run) for a in command]) == 2
    assert capsys.readouterr().err.strip().splitlines() == expected_error(bad_run)


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_command_as_a_process_exits_2_with_the_one_line(bad_run):
    done = subprocess.run([sys.executable, "-m", "fashionseg.cli", "evaluate", str(bad_run)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == expected_error(bad_run)


def test_the_python_api_raises_the_same_error(bad_run):
    with pytest.raises(FashionsegError, match=r"config.json: lr must be a float, got 'fast'"):
        RunFolder.open(bad_run).recipe()


def test_a_config_missing_a_required_setting_names_it(tmp_path):
    with pytest.raises(FashionsegError, match=r"x/config.json: config lacks the setting 'arch'"):
        Recipe.from_dict({"name": "n", "dataset": "fashion-mnist"}, source="x/config.json")
