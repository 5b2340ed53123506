"""Atomic replacement: a failed build never damages what was there."""

from __future__ import annotations

import pytest

from anomaly.artifacts.atomic import replace_directory, replace_file


def _fail(path):
    (path / "half.bin").write_bytes(b"x") if path.is_dir() else path.write_bytes(b"x")
    raise RuntimeError("interrupted")


def test_failed_directory_build_keeps_the_old_directory(tmp_path):
    target = tmp_path / "model"
    replace_directory(target, lambda d: (d / "v1.txt").write_text("v1"))

    with pytest.raises(RuntimeError, match="interrupted"):
        replace_directory(target, _fail)

    assert [p.name for p in target.iterdir()] == ["v1.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_directory_is_replaced_as_a_whole(tmp_path):
    target = tmp_path / "nested" / "model"
    replace_directory(target, lambda d: (d / "v1.txt").write_text("v1"))
    replace_directory(target, lambda d: (d / "v2.txt").write_text("v2"))

    assert [p.name for p in target.iterdir()] == ["v2.txt"]
    assert [p.name for p in target.parent.iterdir()] == ["model"]


def test_failed_file_build_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.zip"
    replace_file(target, lambda p: p.write_bytes(b"v1"))

    with pytest.raises(RuntimeError, match="interrupted"):
        replace_file(target, _fail)

    assert target.read_bytes() == b"v1"
    assert [p.name for p in tmp_path.iterdir()] == ["model.zip"]
