"""Sphinx configuration of the tunnelframe documentation site.

Build it offline, warnings as errors (the command the README documents)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference, the frames' column tables, the plot gallery and the rendered notebooks are
generated at build time from the package itself (see ``_ext/tunnelframe_docs.py``), so a public
name, a schema column, a ``plot_*`` function or a notebook added later appears without editing
these pages. Nothing here uses the network: no intersphinx inventories are fetched.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import tunnelframe

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

# The project's addresses, from pyproject.toml's [project.urls] (their one home): the header's
# icon links, the {tf-link} role and the {tunnelframe-code} blocks of the pages use them.
PROJECT_URLS: dict[str, str] = tomllib.loads((HERE.parent / "pyproject.toml").read_text("utf-8"))[
    "project"
]["urls"]
tunnelframe_urls = PROJECT_URLS

project = "tunnelframe"
author = "the tunnelframe developers"
copyright = "2026, the tunnelframe developers"
version = release = tunnelframe.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
    "sphinxarg.ext",
    "tunnelframe_docs",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
# Every cross-reference must resolve (a stale one fails the build), except into libraries whose
# inventories are not shipped: no inventory is fetched at build time.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(matplotlib|pandas|numpy|pyarrow|requests|datetime|pathlib|os|collections)\..*"),
    (r"py:.*", r"tunnelframe(\.\w+)*\._\w+.*"),  # private modules, deliberately undocumented
]

# _ext/tunnelframe_docs.py writes one page per public name (docs/api/generated/) from what
# tunnelframe.__all__ holds at build time; autosummary only draws the tables that list them.
autosummary_generate = False
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_default_options = {"member-order": "bysource"}

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Notebooks: executed at build time, offline (the simulator serves the sample on loopback), in a
# temporary directory so nothing is written next to them. The test suite builds with
# ``-D nb_execution_mode=off`` because tests/test_notebooks.py executes them already.
nb_execution_mode = "auto"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_in_temp = True
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"tunnelframe {release}"
html_static_path = ["_static"]
html_css_files = ["tunnelframe.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "icon_links": [
        {"name": name, "url": PROJECT_URLS[name], "icon": f"fa-solid fa-{icon}"}
        for name, icon in (("Repository", "code-branch"), ("Issues", "bug"))
    ],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "cli": [], "gallery/index": []}
html_show_sourcelink = False
