"""``anomaly train`` refuses data too large for its memory budget before the work, and
logs each step's time and memory."""

from __future__ import annotations

import pytest

from anomaly.cli.main import EXIT_DATA, EXIT_OK, EXIT_USAGE

from .conftest import run


def _train(capsys, data, out, *options):
    return run(capsys, "train", "--data", data, "--train-end", "2021-12", "--out", out, *options)


def test_parquet_too_large_for_the_budget_is_refused_before_reading(
    capsys, world_dir, tmp_path, monkeypatch
):
    import anomaly.batch.panel_reader as panel_reader
    import anomaly.io.read as read

    def never(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(read, "_read_file", never)
    monkeypatch.setattr(panel_reader, "scan_unit", never)
    code, _out, err = _train(capsys, world_dir, tmp_path / "model", "--memory-budget", "0.01")
    assert code == EXIT_DATA
    (line,) = err.strip().splitlines()
    # Canonical Parquet is read in partitions (one for this world's rows).
    assert "rows and building their panel in 1 partition would need about" in line
    assert "more than the 0.0 GiB this process may use (--memory-budget)" in line
    # The fit is not split: the message says so instead of proposing --jobs.
    assert "`anomaly train --jobs N`" in line
    assert not (tmp_path / "model").exists()


def test_a_fit_beyond_the_budget_is_refused_before_fitting(
    capsys, world_dir, tmp_path, monkeypatch
):
    from anomaly.model import TradeAnomalyModel

    def never(*args, **kwargs):
        raise AssertionError("the model was fitted")

    monkeypatch.setattr(TradeAnomalyModel, "fit", never)
    # CSV: no row count up front, so the panel is built and the fit is refused.
    csv = world_dir / "csv" / "flows.csv"
    code, _out, err = _train(capsys, csv, tmp_path / "model", "--memory-budget", "0.01")
    assert code == EXIT_DATA
    (line,) = err.strip().splitlines()
    assert "series × 84 months in memory would need about" in line
    assert "held now" in line and "for the fit" in line
    assert "fits over partitions of series" in line


def test_within_the_budget_training_logs_each_step_with_its_memory(capsys, world_dir, tmp_path):
    code, _out, err = _train(
        capsys, world_dir, tmp_path / "model", "--memory-budget", "64", "--log-level", "info"
    )
    assert code == EXIT_OK, err
    messages = [line.split(": ", 1)[1] for line in err.splitlines() if " INFO " in line]
    estimates = [m for m in messages if m.startswith("memory: ")]
    assert len(estimates) == 2  # reading (the Parquet footer's rows), then the fit
    assert all(m.endswith("budget 64.0 GiB") for m in estimates)
    for name in (
        "reading input",
        "pivoting the partitions",
        "building the panel",
        "training: forecaster fit before the placebo window",
        "training: placebo window scored",
        "training: detectors calibrated on the placebo window",
        "training: forecaster fit on the training window",
        "training",
        "saving",
    ):
        (done,) = [m for m in messages if m.startswith(f"{name}: done in ")]
        assert "peak memory so far" in done and "resident now" in done, done


@pytest.mark.parametrize("budget", ["0", "-1", "lots", "inf", "nan"])
def test_a_budget_that_is_not_a_positive_number_is_a_usage_error(capsys, tmp_path, budget):
    with pytest.raises(SystemExit) as exit_:
        _train(capsys, tmp_path, tmp_path / "model", "--memory-budget", budget)
    assert exit_.value.code == EXIT_USAGE
    assert "is not a positive number of GiB" in capsys.readouterr().err
