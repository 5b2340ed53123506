"""A simulated world on disk, and a model trained and scored on it by the CLI, once."""

from __future__ import annotations

import shutil
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


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    """``flows.csv``, ``flows.parquet``, ``labels.csv`` of a small planted world."""
    return write_world(simulate_world(800, seed=2), tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="session")
def model_dir(world_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trained") / "model"
    code = main(
        [
            "train",
            "--data",
            str(world_dir / "flows.csv"),
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
            str(world_dir / "flows.csv"),
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
