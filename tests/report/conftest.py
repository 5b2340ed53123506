"""Scoring output directories for report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import write_scoring_output


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A complete scoring output: leads with tiers, monthly scores and run.json."""
    return write_scoring_output(tmp_path / "out")
