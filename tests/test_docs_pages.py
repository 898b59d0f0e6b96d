"""The documentation pages whose examples print numbers run as doctests; the citation,
changelog and package metadata agree with each other."""

import configparser
import doctest
import os
import re

import pytest

import divergences

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("page", ["quickstart.rst", "coming_from.rst"])
def test_examples_of_the_page_run(page):
    if page == "coming_from.rst":
        pytest.importorskip("ot")
    result = doctest.testfile(os.path.join(ROOT, "docs", page), module_relative=False,
                              optionflags=FLAGS, verbose=False, report=True)
    assert result.attempted > 5
    assert result.failed == 0, f"{result.failed} example(s) of docs/{page} failed (above)"


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as fh:
        return fh.read()


def test_version_is_the_same_everywhere():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    version = cfg["metadata"]["version"]
    assert divergences.__version__ == version
    assert re.search(rf"^version: {re.escape(version)}$", _read("CITATION.cff"), re.M)
    assert f"version = {{{version}}}" in _read("docs", "citation.rst")
    assert re.search(rf"^## {re.escape(version)}\b", _read("CHANGELOG.md"), re.M)


def test_license_file_matches_the_metadata():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    assert cfg["metadata"]["license_expression"] == "BSD-3-Clause"
    text = _read("LICENSE")
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in text
    assert "license: BSD-3-Clause" in _read("CITATION.cff")



def test_readme_is_self_contained():
    """No link outside the repository, no relative link (both break on a package index)."""
    readme = _read("README.md")
    assert "../" not in readme and "shared/" not in readme
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        assert target.startswith("https://"), f"README link {target!r} is not absolute"


DOCS_URL = "https://divergences.readthedocs.io/en/latest/"


def _slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def test_readme_links_to_pages_and_sections_that_exist():
    links = re.findall(r"[(<](" + re.escape(DOCS_URL) + r"[^)>]*)[)>]", _read("README.md"))
    assert len(links) >= 10
    for link in links:
        page, _, anchor = link[len(DOCS_URL):].partition("#")
        page = page.removesuffix(".html") or "index"
        source = ("gallery/GALLERY_HEADER.rst" if page == "auto_examples/index"
                  else f"{page}.rst")
        assert os.path.exists(os.path.join(ROOT, "docs", source)), link
        if anchor:
            titles = re.findall(r"^(.+)\n[-=~]{3,}$", _read("docs", source), re.M)
            assert anchor in {_slug(t) for t in titles}, link


def _helpers():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sphinx_helpers", os.path.join(ROOT, "docs", "sphinx_helpers.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_markdown_converters_of_the_docs_build():
    h = _helpers()
    assert h.inline("`a_b*` see [POT](https://pot.org) W_ 2*3 a|b") == (
        "``a_b*`` see `POT <https://pot.org>`__ W\\_ 2\\*3 a\\|b")
    rst = h.markdown_to_rst("# Title\n\n## 1.0\n\n- item `x`\n  continued\n")
    assert rst.splitlines()[:2] == ["Title", "====="]
    assert "1.0\n---\n" in rst and "- item ``x``\n  continued" in rst
    table = h.table_to_rst("Taken on: here\n\n| case | reference |\n| --- | --- |\n"
                           "| js | jensenshannon(p, q)**2 |\n")
    assert "   * - js\n     - ``jensenshannon(p, q)**2``" in table
    assert table.startswith("Taken on: here") and ":header-rows: 1" in table
    rows = h.benchmark_rows("| kl | 0.5 | ref | 2.0 | 4x |\n| case | a | b | c | d |\n")
    assert rows == [{"case": "kl", "ours_s": 0.5, "ref_name": "ref", "ref_s": 2.0}]
