"""docs/plugins.md stays true: its example plugin's files, written out as the doc gives them, register,
and the doc's own test file (training both its recipes, one of them a third task) passes."""
import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.data import REPO

DOC = REPO / "docs" / "plugins.md"
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", DOC.read_text(), re.S)
FILE_HEADER = re.compile(r"# (?:fashionseg-stripes/)?([\w./-]+\.(?:py|toml))")


def file_blocks() -> dict[str, str]:
    """{path: text} for every block whose first line names the file it is."""
    files = {}
    for _, body in BLOCKS:
        header = FILE_HEADER.fullmatch(body.splitlines()[0]) if body.strip() else None
        if header:
            files[header.group(1)] = body
    return files


@pytest.fixture(scope="module")
def stripes_source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stripes")
    for path, text in file_blocks().items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def test_the_doc_gives_every_file_of_its_plugin():
    assert set(file_blocks()) == {"pyproject.toml", "stripes_plugin/__init__.py", "stripes_plugin/models.py",
                                  "stripes_plugin/metrics.py", "stripes_plugin/data.py", "stripes_plugin/tasks.py",
                                  "tests/test_stripes.py"}


@pytest.mark.parametrize("name", ["Architecture", "Metric", "Dataset", "tensor_dataloaders"])
def test_the_signatures_shown_are_the_real_ones(name):
    import fashionseg
    from fashionseg.data import tensor_block

    real = getattr(fashionseg, name, None) or getattr(tensor_block, name)
    (call,) = [ast.parse(body).body[0].value for lang, body in BLOCKS
               if lang == "python" and body.startswith(f"{name}(")]
    params = {n: p for n, p in inspect.signature(real).parameters.items() if n != "plugin"}  # plugin: set by the registry
    assert [a.id for a in call.args] + [k.arg for k in call.keywords] == list(params)
    for k in call.keywords:
        default = params[k.arg].default
        assert ast.literal_eval(k.value) == ({} if type(default).__name__ == "_HAS_DEFAULT_FACTORY_CLASS" else default)


def test_the_doc_plugin_registers_every_component(stripes_source, monkeypatch):
    import fashionseg.registry.plugins as registry_module

    monkeypatch.syspath_prepend(str(stripes_source))
    import stripes_plugin

    reg = registry_module.load_plugins([stripes_plugin])
    assert reg.task("stripe-labels").plugin == "stripes_plugin"
    assert {"stripes-cam", "stripes-mlp"} <= set(reg.names("architecture", task="stripe-labels"))
    assert {"stripes", "stripes-file"} <= set(reg.names("dataset", task="classification"))
    assert "stripes_plugin.models" not in sys.modules  # string factories: nothing heavy imported yet


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_docs_own_tests_pass(stripes_source):
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stripes.py"],
                         cwd=stripes_source, env={**os.environ, "PYTHONPATH": str(stripes_source)},
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "3 passed" in res.stdout
