"""Sphinx configuration: the API reference (numpydoc docstrings) and the tutorial.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` (the ``docs`` extra);
``tests/test_docs.py`` builds it the same way, warnings as errors, on every CI run.
"""

from __future__ import annotations

import anomaly

project = "anomaly"
author = "the anomaly developers"
release = anomaly.__version__
version = release

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

autodoc_typehints = "none"  # numpydoc's Parameters sections say it, once
autodoc_default_options = {"members": True, "member-order": "bysource"}
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Type names in numpydoc sections ("array-like", "path") are prose, not cross-references.
numpydoc_xref_param_type = False
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"anomaly {release}"
