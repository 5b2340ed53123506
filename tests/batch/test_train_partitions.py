"""A model trained over partitions (``fit_partitioned``) is the in-memory fit's: the same
keys in the same order, every number within ``TOLERANCE``, the same leads."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import anomaly.batch.train as train_module
from anomaly import TradeAnomalyModel
from anomaly.batch.engines import DaskEngine, LocalEngine
from anomaly.batch.errors import BatchError
from anomaly.batch.panel_reader import native_inputs, read_panel
from anomaly.batch.train import TOLERANCE, fit_partitioned
from anomaly.errors import DataError
from anomaly.forecast import PrewarMeanForecaster

from .conftest import SCORE, TRAIN


@pytest.fixture(scope="module")
def inputs(world_dir):
    return native_inputs(world_dir / "flows.parquet", "auto")


def partitioned(inputs, work, runner, model=None, n_partitions=3):
    parts = read_panel(inputs, partitions=n_partitions, work_dir=work, stacked=False)
    return fit_partitioned(model or TradeAnomalyModel(), parts, *TRAIN, runner)


def artifact(model, folder) -> tuple[dict, dict[str, np.ndarray], dict[str, pd.DataFrame]]:
    """A saved model's manifest (less what names the time and files' digests), its
    arrays and its tables."""
    path = model.save(folder)
    manifest = json.loads((path / "manifest.json").read_text())
    for name in ("created", "files"):
        manifest.pop(name)
    with np.load(path / "arrays.npz", allow_pickle=False) as npz:
        arrays = dict(npz)
    tables = {p.name: pd.read_parquet(p) for p in path.glob("*.parquet")}
    return manifest, arrays, tables


def assert_same_artifact(actual: TradeAnomalyModel, expected: TradeAnomalyModel, tmp_path):
    got, want = artifact(actual, tmp_path / "a"), artifact(expected, tmp_path / "b")
    assert got[0] == want[0]  # training window, fingerprint, config, versions
    assert got[1].keys() == want[1].keys()
    for name, array in want[1].items():
        if array.dtype.kind in "fc":
            np.testing.assert_allclose(got[1][name], array, **TOLERANCE, err_msg=name)
        else:
            np.testing.assert_array_equal(got[1][name], array, err_msg=name)
    assert got[2].keys() == want[2].keys()
    for name, table in want[2].items():
        pd.testing.assert_frame_equal(got[2][name], table, **TOLERANCE, obj=name)


def assert_same_leads(actual: TradeAnomalyModel, expected: TradeAnomalyModel, flows):
    got, want = actual.score(flows, *SCORE).leads, expected.score(flows, *SCORE).leads
    keys = ["rank", "reporter", "partner", "flow", "hs", "alert", "signals"]
    pd.testing.assert_frame_equal(got[keys], want[keys])
    numbers = want.select_dtypes("number").columns
    pd.testing.assert_frame_equal(got[numbers], want[numbers], rtol=1e-8)


def test_partitioned_fit_on_two_workers_equals_the_in_memory_fit(
    inputs, model, flows, tmp_path, monkeypatch
):
    # The fingerprint's rows gathered from the partitions in blocks of 7.
    monkeypatch.setattr(train_module, "FINGERPRINT_ROWS", 7)
    with LocalEngine(2) as runner:
        fitted = partitioned(inputs, tmp_path / "work", runner)
    assert_same_artifact(fitted, model, tmp_path)
    assert_same_leads(fitted, model, flows)


def test_partitioned_fit_does_not_depend_on_the_workers(inputs, tmp_path):
    with LocalEngine(1) as runner:
        one = partitioned(inputs, tmp_path / "one", runner, n_partitions=4)
    with LocalEngine(2) as runner:
        two = partitioned(inputs, tmp_path / "two", runner, n_partitions=4)
    a, b = artifact(one, tmp_path / "a"), artifact(two, tmp_path / "b")
    assert a[0] == b[0]
    for name, array in a[1].items():
        np.testing.assert_array_equal(b[1][name], array, err_msg=name)


def test_partitioned_fit_on_dask_equals_the_in_memory_fit(inputs, model, flows, tmp_path):
    pytest.importorskip("dask.distributed")
    with DaskEngine(jobs=2) as runner:
        fitted = partitioned(inputs, tmp_path / "work", runner)
    assert_same_artifact(fitted, model, tmp_path)
    assert_same_leads(fitted, model, flows)


@pytest.mark.parametrize("directions", [("export", "import"), ("export",)])
def test_a_reporter_s_gap_is_read_over_partitions_as_in_memory(flows, tmp_path, directions):
    """A reporter of many series that declared nothing (or no exports) in 2018 did not
    publish it, in both fits, though each partition holds only some of its series."""
    in_gap = (
        flows["reporter"].eq("USA")
        & flows["flow"].isin(directions)
        & flows["period"].between(pd.Period("2018-01", "M"), pd.Period("2018-12", "M"))
    )
    gapped = flows[~in_gap].reset_index(drop=True)
    gapped.to_parquet(tmp_path / "flows.parquet")
    expected = TradeAnomalyModel().fit(gapped, *TRAIN)
    with LocalEngine(2) as runner:
        fitted = partitioned(
            native_inputs(tmp_path / "flows.parquet", "auto"), tmp_path / "w", runner
        )
    assert_same_artifact(fitted, expected, tmp_path)
    # The gap was read: the series it left empty count a year less of training months,
    # the reporter's other direction (if published) does not.
    months = expected.forecaster_.occurrence_months()
    keys = expected.keys_
    usa = keys["reporter"].eq("USA").to_numpy() & (months > 0)
    gap = usa & keys["flow"].isin(directions).to_numpy()
    others = np.median(months[~usa & (months > 0)])
    assert np.median(months[gap]) == others - 12
    if (usa & ~gap).any():
        assert np.median(months[usa & ~gap]) == others


def test_other_forecasters_are_refused(inputs, tmp_path):
    model = TradeAnomalyModel(PrewarMeanForecaster())
    with LocalEngine(1) as runner, pytest.raises(BatchError, match="PrewarMeanForecaster"):
        partitioned(inputs, tmp_path / "work", runner, model)


def test_the_partitioned_training_window_is_checked_as_in_memory(inputs, tmp_path):
    parts = read_panel(inputs, partitions=2, work_dir=tmp_path / "work", stacked=False)
    with LocalEngine(1) as runner, pytest.raises(DataError, match="before the data"):
        fit_partitioned(TradeAnomalyModel(), parts, "2010-01", TRAIN[1], runner)
    with LocalEngine(1) as runner, pytest.raises(DataError, match="at least 9 months"):
        fit_partitioned(TradeAnomalyModel(), parts, "2021-05", TRAIN[1], runner)
