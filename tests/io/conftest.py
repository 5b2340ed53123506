"""Shared fixtures of the anomaly.io tests: the real data files and a file writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"


@pytest.fixture
def shared_file() -> Callable[[str], Path]:
    """Path of a file in ../shared/data; the test is skipped where it is absent."""

    def find(name: str) -> Path:
        path = SHARED_DATA / name
        if not path.is_file():
            pytest.skip(
                f"needs ../shared/data/{name}: the real data files beside the clone "
                "(README, 'Tests on real data')"
            )
        return path

    return find


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write text (UTF-8, exactly as given) or bytes to a file in tmp_path."""

    def write_file(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write_file
