"""The package's layout is the design's: few top-level modules, subpackages that say what they hold, and
import-linter's contracts (pyproject.toml) kept: layers only import downwards, no cycles, the registry
and recipes without torch, plugins through the plugin API only."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import fashionseg

PACKAGE = Path(fashionseg.__file__).parent
REPO = PACKAGE.parent
LINT = "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True, no_logo=True))"


def subpackages() -> list[Path]:
    return sorted(p.parent for p in PACKAGE.glob("*/__init__.py"))


def lint(cwd: Path, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    return subprocess.run([sys.executable, "-c", LINT], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_the_top_level_has_at_most_eight_modules_and_every_subpackage_says_what_it_holds():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 8, modules
    for sub in subpackages():
        doc = ast.get_docstring(ast.parse((sub / "__init__.py").read_text()))
        assert doc and len(doc) > 40, f"{sub.name}/__init__.py needs a docstring saying what lives there"


def test_the_readme_layout_names_every_subpackage():
    layout = (REPO / "README.md").read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [sub.name for sub in subpackages() if f" {sub.name}/" not in layout]
    assert not missing, f"README's layout lacks {missing}"


def test_import_linter_contracts_are_kept():
    done = lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("KEPT") == 4 and "BROKEN" not in done.stdout


def test_an_upward_import_breaks_the_layers_contract(tmp_path):
    """The contract is no formality: a data module importing the engine (upwards) fails it."""
    for name in ("fashionseg", "plugins"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / "fashionseg_plugins").symlink_to(tmp_path / "plugins")
    (tmp_path / "fashionseg" / "data" / "upward.py").write_text("from fashionseg.engine import trainer  # noqa\n")
    done = lint(tmp_path, pythonpath=str(tmp_path))
    assert done.returncode != 0
    assert "fashionseg.data.upward -> fashionseg.engine.trainer" in done.stdout, done.stdout
