"""``anomaly train --jobs N [--engine] [--work-dir]`` reads canonical Parquet on worker
processes into the same panel, so it saves the same model."""

from __future__ import annotations

import json

from anomaly.cli.main import EXIT_DATA, EXIT_OK

from .conftest import run


def _files(model_dir) -> dict:
    """What a model artifact holds: each file's sha256 (its manifest, less the time)."""
    return json.loads((model_dir / "manifest.json").read_text())["files"]


def test_worker_processes_and_a_work_directory_save_the_same_model(
    capsys, world_dir, model_dir, tmp_path
):
    out, work = tmp_path / "model", tmp_path / "work"
    options = ["--jobs", "2", "--partitions", "3", "--work-dir", work]
    code, _, err = run(
        capsys, "train", "--data", world_dir, "--train-end", "2021-12", "--out", out, *options
    )
    assert code == EXIT_OK, err
    assert _files(out) == _files(model_dir)
    assert json.loads((work / "job.json").read_text())["job"] == "training panel"
    assert sorted(p.name for p in (work / "panels").iterdir()) == [
        "part-00000",
        "part-00001",
        "part-00002",
    ]
    # Run again: the finished reading is reused, the model is the same.
    code, _, err = run(
        capsys, "train", "--data", world_dir, "--train-end", "2021-12", "--out", out, *options
    )
    assert code == EXIT_OK, err
    assert _files(out) == _files(model_dir)


def test_partition_options_on_other_inputs_are_refused(capsys, world_dir, tmp_path):
    csv = world_dir / "csv" / "flows.csv"
    code, _, err = run(
        capsys,
        "train",
        "--data",
        csv,
        "--train-end",
        "2021-12",
        "--out",
        tmp_path / "m",
        "--jobs",
        "2",
        "--work-dir",
        tmp_path / "w",
    )
    assert code == EXIT_DATA
    assert "--jobs, --work-dir: only canonical Parquet is read in partitions" in err
    assert "flows.csv is not" in err
    assert not (tmp_path / "m").exists()
