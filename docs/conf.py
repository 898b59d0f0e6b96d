"""Sphinx configuration. The gallery scripts run at build time and write their plots to
docs/gallery/generated/, which the pages include."""

import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

project = "divergences"
author = "the divergences developers"
copyright = "2026, the divergences developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "numpydoc"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"
html_theme = "alabaster"
exclude_patterns = ["_build"]
nitpicky = False


def _run_gallery(app):
    out = os.path.join(HERE, "gallery", "generated")
    os.makedirs(out, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    for name in sorted(os.listdir(os.path.join(HERE, "gallery"))):
        if name.startswith("plot_") and name.endswith(".py"):
            runpy.run_path(os.path.join(HERE, "gallery", name), run_name="__main__")


def setup(app):
    app.connect("builder-inited", _run_gallery)
