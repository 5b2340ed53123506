"""Panel: validation, month arithmetic, window, select and the long table view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import DataError
from anomaly.panel import Panel, as_month

KEYS = [
    ("DEU", "KGZ", "export", "854231"),
    ("FRA", "KGZ", "export", "854231"),
    ("DEU", "ARM", "export", "847150"),
]


def three_series(panel_of):
    return panel_of(KEYS, [[1.0, 2.0, 3.0], [np.nan, 5.0, 6.0], [7.0, np.nan, 0.0]], "2021-01")


def test_as_month_reads_text_and_periods_and_refuses_nonsense():
    assert as_month("2022-03") == pd.Period("2022-03", "M")
    assert as_month(pd.Period("2022-03", "M")) == pd.Period("2022-03", "M")
    with pytest.raises(DataError, match="month"):
        as_month("not a month")


def test_month_index_counts_from_the_first_month_also_outside_the_panel(panel_of):
    panel = three_series(panel_of)
    assert panel.month_index("2021-01") == 0
    assert panel.month_index("2021-03") == 2
    assert panel.month_index("2020-12") == -1
    assert panel.month_index("2022-01") == 12


def test_window_inside_the_data_takes_those_columns(panel_of):
    panel = three_series(panel_of)
    window = panel.window("2021-02", "2021-03")
    assert window.periods.equals(pd.period_range("2021-02", "2021-03", freq="M"))
    np.testing.assert_array_equal(window.values, panel.values[:, 1:])
    assert window.keys.equals(panel.keys)


def test_window_beyond_the_data_pads_nan_on_both_sides(panel_of):
    panel = three_series(panel_of)
    window = panel.window("2020-11", "2021-05")
    assert window.n_periods == 7
    assert np.isnan(window.values[:, :2]).all() and np.isnan(window.values[:, -2:]).all()
    np.testing.assert_array_equal(window.values[:, 2:5], panel.values)


def test_window_entirely_after_the_data_is_all_nan(panel_of):
    window = three_series(panel_of).window("2022-01", "2022-12")
    assert window.values.shape == (3, 12)
    assert np.isnan(window.values).all()


def test_window_defaults_to_the_panel_range_and_refuses_a_reversed_range(panel_of):
    panel = three_series(panel_of)
    assert panel.window(None, "2021-02").periods[0] == pd.Period("2021-01", "M")
    assert panel.window("2021-02", None).periods[-1] == pd.Period("2021-03", "M")
    with pytest.raises(DataError, match="before its start"):
        panel.window("2021-03", "2021-01")


def test_window_also_cuts_the_extra_matrices(panel_of):
    panel = three_series(panel_of)
    weight = np.arange(9, dtype=np.float64).reshape(3, 3)
    panel = Panel(panel.keys, panel.periods, panel.values, "EUR", {"weight_kg": weight})
    window = panel.window("2021-03", "2021-04")
    np.testing.assert_array_equal(window.extra["weight_kg"][:, 0], weight[:, 2])
    assert np.isnan(window.extra["weight_kg"][:, 1]).all()
    assert window.currency == "EUR"


def test_select_by_positions_and_by_mask_renumbers_keys(panel_of):
    panel = three_series(panel_of)
    picked = panel.select(np.array([2, 0]))
    assert picked.keys.index.equals(pd.RangeIndex(2))
    assert picked.keys["reporter"].tolist() == ["DEU", "DEU"]
    assert picked.keys["partner"].tolist() == ["ARM", "KGZ"]
    np.testing.assert_array_equal(picked.values, panel.values[[2, 0]])

    masked = panel.select(panel.keys["reporter"].to_numpy() == "FRA")
    assert masked.n_series == 1
    np.testing.assert_array_equal(masked.values, panel.values[[1]])


def test_to_flows_lists_reported_cells_including_declared_zeros(panel_of):
    flows = three_series(panel_of).to_flows()
    assert list(flows.columns) == ["period", "reporter", "partner", "flow", "hs", "value"]
    assert flows["period"].dtype == pd.PeriodDtype("M")
    assert len(flows) == 7  # nine cells, two not reported
    zero = flows[flows["value"] == 0.0]
    assert zero[["period", "reporter", "partner"]].astype(str).to_numpy().tolist() == [
        ["2021-03", "DEU", "ARM"]
    ]


def test_constructor_refuses_inconsistent_shapes_and_periods(panel_of):
    panel = three_series(panel_of)
    with pytest.raises(DataError, match="shape"):
        Panel(panel.keys, panel.periods, panel.values[:, :2])
    with pytest.raises(DataError, match="contiguous"):
        Panel(panel.keys, pd.PeriodIndex(["2021-01", "2021-02", "2021-04"], freq="M"), panel.values)
    with pytest.raises(DataError, match="monthly"):
        Panel(panel.keys, pd.period_range("2021", periods=3, freq="Y"), panel.values)
    with pytest.raises(DataError, match="lack"):
        Panel(panel.keys.drop(columns="hs"), panel.periods, panel.values)
    with pytest.raises(DataError, match="weight_kg"):
        Panel(panel.keys, panel.periods, panel.values, extra={"weight_kg": np.zeros((3, 2))})


def test_key_index_lists_the_four_key_columns(panel_of):
    index = three_series(panel_of).key_index()
    assert list(index.names) == ["reporter", "partner", "flow", "hs"]
    assert index[1] == ("FRA", "KGZ", "export", "854231")


def test_window_without_copy_is_a_read_only_view_within_the_data(panel_of):
    panel = three_series(panel_of)
    window = panel.window("2021-02", "2021-03", copy=False)
    assert np.shares_memory(window.values, panel.values)
    np.testing.assert_array_equal(window.values, panel.values[:, 1:])
    with pytest.raises(ValueError, match="read-only"):
        window.values[0, 0] = 99.0
    panel.values[0, 1] = 99.0  # the panel itself stays writable
    assert window.values[0, 0] == 99.0


def test_window_without_copy_past_the_data_is_a_padded_copy(panel_of):
    panel = three_series(panel_of)
    window = panel.window("2021-02", "2021-04", copy=False)
    assert not np.shares_memory(window.values, panel.values)
    assert np.isnan(window.values[:, -1]).all()
    np.testing.assert_array_equal(window.values[:, :2], panel.values[:, 1:])
