"""The docs site builds without a warning, every page is on it, and the README stays a front page.

`mkdocs build --strict` fails on a broken link or anchor between pages, a page left out of the nav, an
API reference entry that names nothing, and a snippet of the README that is gone (mkdocs.yml turns each
into a warning). It reads the source statically and fetches nothing.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = REPO / "README.md"
QUICK_START = ["bash scripts/quickstart.sh", "bash scripts/test.sh"]


def nav_pages(nav) -> list[str]:
    """Every page path in mkdocs.yml's nav, however deeply nested."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return [page for item in nav for page in nav_pages(item)]


@pytest.fixture(scope="module")
def nav() -> list[str]:
    import yaml

    class Loader(yaml.SafeLoader):
        """mkdocs.yml's own tags (`!relative`, `!ENV`) read as plain values: only the nav matters here."""

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return nav_pages(yaml.load((REPO / "mkdocs.yml").read_text(), Loader)["nav"])


def test_the_site_builds_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("PYTHONPATH", None)
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").is_file()
    api = (tmp_path / "site" / "reference" / "plugin-api" / "index.html").read_text()
    assert "tensor_dataloaders" in api and "fashionseg_datasets" in api  # generated, not an empty page


def test_every_page_is_in_the_nav(nav):
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - set(nav) == set(), "pages not on the site: add them to mkdocs.yml's nav"
    assert set(nav) - pages == set(), "nav entries without a page"


def test_the_readme_is_a_front_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 170, "README.md is the front page: move long sections into docs/"
    for command in QUICK_START:
        assert re.search(rf"^{re.escape(command)}(\s|$)", text, re.M), f"the quick start lost `{command}`"


def test_the_readme_links_resolve():
    """The README is not part of the site build, so its relative links are checked here."""
    for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", README.read_text()):
        assert (REPO / target).exists(), f"README.md links to {target}, which does not exist"


def test_the_readme_lists_every_recipe():
    text = README.read_text()
    names = [re.search(r'name="([\w-]+)"', p.read_text()).group(1) for p in sorted((REPO / "recipes").glob("*.py"))]
    missing = [name for name in names if f"| `{name}` |" not in text]
    assert not missing, f"the README's recipe table lacks {missing}"
