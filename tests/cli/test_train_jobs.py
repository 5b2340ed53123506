"""``anomaly train --jobs N [--engine] [--work-dir]`` reads canonical Parquet and fits
the model over its partitions on worker processes: it saves the in-memory fit's model
(within ``anomaly.batch.train.TOLERANCE``), and a second run reuses the reading."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from anomaly.batch.train import TOLERANCE
from anomaly.cli.main import EXIT_DATA, EXIT_OK

from .conftest import run


def assert_same_model(actual, expected) -> None:
    """Two model directories hold the same artifact: the same manifest (less its time
    and files' digests), tables and arrays within :data:`TOLERANCE`."""
    manifests = [json.loads((path / "manifest.json").read_text()) for path in (actual, expected)]
    for manifest in manifests:
        del manifest["created"], manifest["files"]
    assert manifests[0] == manifests[1]
    with np.load(actual / "arrays.npz") as got, np.load(expected / "arrays.npz") as want:
        assert sorted(got.files) == sorted(want.files)
        for name in want.files:
            np.testing.assert_allclose(got[name], want[name], **TOLERANCE, err_msg=name)
    tables = sorted(path.name for path in expected.glob("*.parquet"))
    assert sorted(path.name for path in actual.glob("*.parquet")) == tables
    for name in tables:
        pd.testing.assert_frame_equal(
            pd.read_parquet(actual / name), pd.read_parquet(expected / name), **TOLERANCE
        )


def test_worker_processes_and_a_work_directory_save_the_same_model(
    capsys, world_dir, model_dir, tmp_path
):
    out, work = tmp_path / "model", tmp_path / "work"
    options = ["--jobs", "2", "--partitions", "3", "--work-dir", work]
    code, _, err = run(
        capsys, "train", "--data", world_dir, "--train-end", "2021-12", "--out", out, *options
    )
    assert code == EXIT_OK, err
    assert_same_model(out, model_dir)
    assert json.loads((work / "job.json").read_text())["job"] == "training panel"
    assert sorted(p.name for p in (work / "panels").iterdir()) == [
        "part-00000",
        "part-00001",
        "part-00002",
    ]
    # Run again: the finished reading is reused, the model is the same to the bit.
    first = (out / "manifest.json").read_text()
    pivoted = (work / "panels" / "part-00000" / "values.npy").stat().st_mtime_ns
    code, _, err = run(
        capsys, "train", "--data", world_dir, "--train-end", "2021-12", "--out", out, *options
    )
    assert code == EXIT_OK, err
    assert json.loads((out / "manifest.json").read_text())["files"] == json.loads(first)["files"]
    assert (work / "panels" / "part-00000" / "values.npy").stat().st_mtime_ns == pivoted


def test_other_forecasters_are_not_fitted_over_partitions(capsys, world_dir, tmp_path):
    out = tmp_path / "m"
    code, _, err = run(
        capsys,
        "train",
        "--data",
        world_dir,
        "--train-end",
        "2021-12",
        "--out",
        out,
        "--forecaster",
        "prewar-mean",
        "--jobs",
        "2",
    )
    assert code == EXIT_DATA
    assert "PrewarMeanForecaster cannot be trained over partitions" in err
    assert "fit it in memory (without --jobs" in err
    assert not out.exists()


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
