"""``anomaly score`` with the batch options: same leads.csv, errors as exit codes."""

from __future__ import annotations

import json

import pytest

from anomaly.cli import main

from .conftest import SCORE, same_outputs


def score(model_dir, data, out, *options: str) -> int:
    argv = ["score", "--model", model_dir, "--data", data, "--start", SCORE[0], "--end", SCORE[1]]
    return main([str(a) for a in [*argv, "--out", out, *options]])


def test_jobs(model_dir, world_dir, reference, tmp_path, capsys):
    assert score(model_dir, world_dir / "flows.parquet", tmp_path / "out", "--jobs", "2") == 0
    same_outputs(reference, tmp_path / "out")
    assert "series scored" in capsys.readouterr().out
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["model"] == str(model_dir) and run["batch"]["workers"] == 2


def test_partitions_and_work_dir(model_dir, world_dir, reference, tmp_path):
    options = ("--partitions", "3", "--work-dir", str(tmp_path / "work"))
    assert score(model_dir, world_dir / "csv" / "flows.csv", tmp_path / "out", *options) == 0
    same_outputs(reference, tmp_path / "out")
    assert (tmp_path / "work" / "job.json").exists()


def test_without_batch_options_scoring_is_in_memory(model_dir, world_dir, reference, tmp_path):
    assert score(model_dir, world_dir / "flows.parquet", tmp_path / "out") == 0
    same_outputs(reference, tmp_path / "out")
    assert "batch" not in json.loads((tmp_path / "out" / "run.json").read_text())


def test_bad_input_exits_3(model_dir, flows, tmp_path, capsys):
    frame = flows.assign(period=flows["period"].astype(str))
    frame.loc[frame["period"] == "2022-07", "value"] = -1.0
    frame.to_parquet(tmp_path / "bad.parquet", index=False)
    assert score(model_dir, tmp_path / "bad.parquet", tmp_path / "out", "--jobs", "1") == 3
    err = capsys.readouterr().err
    assert err.startswith("anomaly: error: ") and "bad.parquet" in err and err.count("\n") == 1


@pytest.mark.parametrize("options", [("--jobs", "0"), ("--engine", "spark")])
def test_usage_errors_exit_2(model_dir, world_dir, tmp_path, options, capsys):
    with pytest.raises(SystemExit) as raised:
        score(model_dir, world_dir / "flows.parquet", tmp_path / "out", *options)
    assert raised.value.code == 2


def test_scheduler_needs_the_dask_engine(model_dir, world_dir, tmp_path, capsys):
    options = ("--engine", "local", "--scheduler", "tcp://127.0.0.1:8786")
    assert score(model_dir, world_dir / "flows.parquet", tmp_path / "out", *options) == 3
    assert "dask" in capsys.readouterr().err
