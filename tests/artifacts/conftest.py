"""Fixtures for artifact tests: a small model state and an artifact written from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from anomaly.artifacts import write_artifact

from .support import CREATED, model_state


@pytest.fixture
def state() -> dict[str, Any]:
    return model_state()


@pytest.fixture
def artifact(tmp_path: Path, state: dict[str, Any]) -> Path:
    """A freshly written artifact directory."""
    return write_artifact(tmp_path / "model", **state, created=CREATED)
