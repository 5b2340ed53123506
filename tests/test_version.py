"""One version: the package's, the distribution's metadata and pyproject.toml agree."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import anomaly
from anomaly._version import __version__

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_version_is_defined_once_and_matches_the_project():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert anomaly.__version__ is __version__
    assert __version__ == project["version"] == metadata.version("anomaly")
