"""A simulated world on disk, and a model trained and scored on it by the CLI, once.

The world directory is given to ``--data`` as a whole, as a user would after ``anomaly
simulate``: its labels sit apart, so the directory reads as its flows alone.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from anomaly.cli import main
from anomaly.simulate import simulate_world, write_world


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``anomaly ARGV`` in this process: exit code, standard output, standard error."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def console_script() -> str:
    """The installed ``anomaly`` console script (beside this Python, else on PATH)."""
    beside_python = Path(sys.executable).with_name("anomaly")
    found = str(beside_python) if beside_python.exists() else shutil.which("anomaly")
    assert found, "the `anomaly` console script is not installed"
    return found


@pytest.fixture
def umask(request) -> Iterator[int]:
    """Set the process's umask (``request.param``, default ``0o027``) for one test."""
    mask = getattr(request, "param", 0o027)
    previous = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(previous)


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    """``flows.parquet``, ``labels/labels.csv``, ``csv/flows.csv`` of a small planted world."""
    return write_world(simulate_world(800, seed=2), tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="session")
def model_dir(world_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trained") / "model"
    code = main(
        [
            "train",
            "--data",
            str(world_dir),
            "--train-end",
            "2021-12",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


@pytest.fixture(scope="session")
def scored_dir(world_dir, model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scored") / "out"
    code = main(
        [
            "score",
            "--model",
            str(model_dir),
            "--data",
            str(world_dir),
            "--start",
            "2022-01",
            "--end",
            "2023-12",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out
