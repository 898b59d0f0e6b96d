"""Sphinx configuration.

The gallery (docs/gallery/plot_*.py) is run by sphinx-gallery at build time: each example
is shown with its code, its output and its figures, and can be downloaded as a script or a
notebook. Pages built from files outside docs/ (the benchmark table, the changelog) are
written into docs/_generated/ by :mod:`sphinx_helpers` before Sphinx reads the sources.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import sphinx_helpers  # noqa: E402

project = "divergences"
author = "the divergences developers"
copyright = "2026, the divergences developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"
autosummary_generate = True
html_theme = "alabaster"
exclude_patterns = ["_build", "_generated", "gallery/GALLERY_HEADER.rst"]
nitpicky = False
templates_path = ["_templates"]
trim_doctest_flags = True

sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 5,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reference_url": {"divergences": None},
}


def _generate(app):
    sphinx_helpers.write_generated_pages(ROOT, os.path.join(HERE, "_generated"))


def setup(app):
    app.connect("builder-inited", _generate)
