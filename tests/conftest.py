"""Shared fixtures: real data from ../shared/data (or $FASHIONSEG_DATA), run folders in tmp, and the
tiny trained runs, each trained once per session and kept pristine (a test that writes into one
works on a copy: `helpers.runs.copy_run`, or the `tiny_run_copy` fixture)."""
import os

if os.environ.get("PYTEST_XDIST_WORKER"):  # `scripts/test.sh` runs one worker per core: one torch thread each
    os.environ.setdefault("OMP_NUM_THREADS", "1")
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers.data import DEV_DATA, need_data
from helpers.runs import (
    FASHION_TEST,
    cam_recipe,
    copy_facade_pairs,
    copy_run,
    facade_recipe,
    fashion_recipe,
    folder_state,
    mask_folder_recipe,
    train,
)
from helpers.seg_folders import make_root

if not os.environ.get("FASHIONSEG_DATA") and DEV_DATA.is_dir():
    os.environ["FASHIONSEG_DATA"] = str(DEV_DATA)


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    from fashionseg.data.fashion_mnist import FILES

    return need_data("fashion-mnist", list(FILES))


@pytest.fixture(scope="session")
def facade_root() -> Path:
    return need_data("mini-facade", ["train", "test_dev"])


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    """Every place fashionseg looks for data points into an empty temporary folder."""
    (tmp_path / "data").mkdir(exist_ok=True)  # an existing, empty folder: a missing one would be an error
    monkeypatch.setenv("FASHIONSEG_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("fashionseg.data.locate.SYSTEM_ROOT", tmp_path / "system")
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    return tmp_path


@contextmanager
def kept_pristine(folder: Path):
    """Fails on leaving if any test wrote into the shared run folder `folder`."""
    before = folder_state(folder)
    yield
    after = folder_state(folder)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"a test wrote into the shared run {folder} (use copy_run): {changed}"


# ---------------------------------------------------------------- tiny trained runs, one each per session
TRAINED_RUNS = {"fashion", "facade", "mask_run", "tiny_run"}


def once_per_session(tmp_path_factory, name: str, make):
    """`make(folder)`, which trains a run under `folder` and returns its `RunResult`, done once for the whole test
    session: under pytest-xdist the first worker to ask trains it (a file lock in the folder the workers share) and
    the others read that run folder, its results from metrics.json and no Learner (tests use its folder and
    results). Each session trains afresh: the shared folder is named by xdist's id of this test run."""
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not uid:
        return make(tmp_path_factory.mktemp(name))
    import json

    from filelock import FileLock

    from fashionseg.engine.trainer import RunResult
    from fashionseg.run_folders.folder import RunFolder

    folder = tmp_path_factory.getbasetemp().parent / f"shared-{uid}" / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        done = folder / "trained.json"
        if not done.is_file():
            result = make(folder)
            done.write_text(json.dumps({"run": str(result.run.path)}))
            return result
    run = RunFolder(Path(json.loads(done.read_text())["run"]))
    return RunResult(run, run.read_json("metrics.json"), None)


def pytest_collection_modifyitems(items):
    """A test that uses a trained run is slow: run alone, it trains it. (A run asked for with
    `request.getfixturevalue` is not among the test's fixtures: mark such a test slow where it is.)"""
    for item in items:
        if TRAINED_RUNS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def fashion(fashion_mnist_dir, tmp_path_factory):
    """(the tiny Fashion-MNIST run, its test images, their labels): `helpers.runs.fashion_recipe`."""
    from fashionseg.data import fashion_mnist

    raw = fashion_mnist.load()
    def make(folder):  # with its figures: the figure tests read them
        return train(fashion_recipe().override(figures=True), folder / "runs")

    result = once_per_session(tmp_path_factory, "fashion", make)
    images, labels = raw["test_images"][:FASHION_TEST], raw["test_labels"][:FASHION_TEST]
    with kept_pristine(result.run.path):
        yield result, images, labels


@pytest.fixture(scope="session")
def facade(facade_root, tmp_path_factory):
    """(the facade run, the folder of its train and test_dev pairs): `helpers.runs.facade_recipe`."""
    def make(folder):
        return train(facade_recipe(copy_facade_pairs(facade_root, folder / "data")).override(figures=True),
                     folder / "runs")

    result = once_per_session(tmp_path_factory, "facade", make)
    data = Path(result.run.read_json("config.json")["data_options"]["path"])
    with kept_pristine(result.run.path):
        yield result, data


@pytest.fixture(scope="session")
def mask_run(tmp_path_factory):
    """(the generated mask folder: 12 training and 8 test pairs with ignored pixels, its recipe, the run trained on
    it): `helpers.runs.mask_folder_recipe`."""
    def make(folder):
        return train(mask_folder_recipe(make_root(folder / "masks", n_train=12, n_test=8)).override(figures=True),
                     folder / "runs")

    result = once_per_session(tmp_path_factory, "mask-run", make)
    root = Path(result.run.read_json("config.json")["data_options"]["path"])
    with kept_pristine(result.run.path):
        yield root, mask_folder_recipe(root).override(figures=True), result


@pytest.fixture
def make_tiny_recipe(fashion_mnist_dir):
    return lambda **changes: cam_recipe(fashion_mnist_dir, **changes)


@pytest.fixture(scope="session")
def tiny_run(fashion_mnist_dir, tmp_path_factory):
    """The finished cam-cnn run folder on placed Fashion-MNIST (with two best checkpoints,
    iterations.csv and TensorBoard events): `helpers.runs.cam_recipe`."""
    recipe = cam_recipe(fashion_mnist_dir, track=["tensorboard"], figures=True)
    path = once_per_session(tmp_path_factory, "tiny-run", lambda folder: train(recipe, folder / "runs")).run.path
    with kept_pristine(path):
        yield path


@pytest.fixture
def tiny_run_copy(tiny_run, tmp_path) -> Path:
    """A copy of `tiny_run` for a test that writes into it (analyses add figures, metrics and report sections)."""
    return copy_run(tiny_run, tmp_path)
