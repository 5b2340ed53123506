"""build_panel: canonical long flows → one dense monthly panel at one HS level."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import DataError, PeriodError
from anomaly.panel import build_panel


def series_of(panel, **key):
    """The value row of the one series matching ``key`` (reporter/partner/flow/hs)."""
    mask = np.ones(panel.n_series, dtype=bool)
    for column, wanted in key.items():
        mask &= (panel.keys[column] == wanted).to_numpy()
    assert mask.sum() == 1, f"expected one series for {key}, found {int(mask.sum())}"
    return panel.values[mask][0]


def test_cn8_rows_are_summed_to_their_hs6_series(flows):
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "85423110", 1.0),
            ("2021-01", "DEU", "KGZ", "export", "85423190", 2.5),
            ("2021-02", "DEU", "KGZ", "export", "85423190", 4.0),
            ("2021-01", "DEU", "KGZ", "export", "84715000", 7.0),
        ]
    )
    panel = build_panel(table, harmonize=False)
    assert panel.keys["hs"].tolist() == ["847150", "854231"]
    np.testing.assert_array_equal(series_of(panel, hs="854231"), [3.5, 4.0])
    np.testing.assert_array_equal(series_of(panel, hs="847150"), [7.0, np.nan])


def test_keys_are_sorted_strings_with_a_range_index(flows):
    table = flows(
        [
            ("2021-01", "FRA", "KGZ", "export", "854231", 1.0),
            ("2021-01", "DEU", "ARM", "import", "010121", 1.0),
            ("2021-01", "DEU", "ARM", "export", "010121", 1.0),
        ]
    )
    keys = build_panel(table, harmonize=False).keys
    assert keys.index.equals(pd.RangeIndex(3))
    assert keys.to_numpy().tolist() == [
        ["DEU", "ARM", "export", "010121"],
        ["DEU", "ARM", "import", "010121"],
        ["FRA", "KGZ", "export", "854231"],
    ]


def test_a_row_published_at_hs6_is_used_instead_of_its_cn8_children(flows):
    # January: the HS6 total (10) beside its own CN8 detail (4 + 6) must count once.
    # February: only the CN8 detail is published, so it is summed.
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "854231", 10.0),
            ("2021-01", "DEU", "KGZ", "export", "85423110", 4.0),
            ("2021-01", "DEU", "KGZ", "export", "85423190", 6.0),
            ("2021-02", "DEU", "KGZ", "export", "85423110", 1.0),
            ("2021-02", "DEU", "KGZ", "export", "85423190", 2.0),
        ]
    )
    panel = build_panel(table, harmonize=False)
    np.testing.assert_array_equal(series_of(panel, hs="854231"), [10.0, 3.0])


def test_the_hs6_row_only_shadows_children_of_the_same_series_and_month(flows):
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "854231", 10.0),
            ("2021-01", "FRA", "KGZ", "export", "85423110", 4.0),
            ("2021-01", "DEU", "ARM", "export", "85423110", 5.0),
            ("2021-01", "DEU", "KGZ", "import", "85423110", 6.0),
        ]
    )
    panel = build_panel(table, harmonize=False)
    assert sorted(panel.values[:, 0].tolist()) == [4.0, 5.0, 6.0, 10.0]


def test_rows_coarser_than_the_hs_level_are_left_out_and_logged(flows, caplog):
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "85423110", 1.0),
            ("2021-02", "DEU", "KGZ", "export", "8542", 50.0),
            ("2021-02", "DEU", "KGZ", "export", "85", 500.0),
            ("2021-02", "DEU", "KGZ", "export", "847150", 3.0),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="anomaly.panel.build"):
        panel = build_panel(table, harmonize=False)
    assert panel.keys["hs"].tolist() == ["847150", "854231"]
    np.testing.assert_array_equal(panel.values, [[np.nan, 3.0], [1.0, np.nan]])
    assert "coarser" in caplog.text


def test_hs4_level_sums_hs6_and_cn8_rows_but_prefers_a_published_heading(flows):
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "854231", 1.0),
            ("2021-01", "DEU", "KGZ", "export", "85423910", 2.0),
            ("2021-02", "DEU", "KGZ", "export", "8542", 9.0),
            ("2021-02", "DEU", "KGZ", "export", "854231", 4.0),
        ]
    )
    panel = build_panel(table, hs_level=4, harmonize=False)
    assert panel.keys["hs"].tolist() == ["8542"]
    np.testing.assert_array_equal(panel.values, [[3.0, 9.0]])


def test_absent_months_are_nan_and_declared_zeros_stay_zero(flows):
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "854231", 1.0),
            ("2021-02", "DEU", "KGZ", "export", "854231", 0.0),
            ("2021-05", "DEU", "KGZ", "export", "854231", 3.0),
        ]
    )
    panel = build_panel(table, harmonize=False)
    assert panel.periods.equals(pd.period_range("2021-01", "2021-05", freq="M"))
    np.testing.assert_array_equal(panel.values, [[1.0, 0.0, np.nan, np.nan, 3.0]])


def test_start_and_end_pad_with_nan_and_cut_later_months(flows):
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "854231", 1.0),
            ("2021-03", "DEU", "KGZ", "export", "854231", 3.0),
            ("2021-06", "DEU", "KGZ", "export", "854231", 6.0),
        ]
    )
    panel = build_panel(table, harmonize=False, start="2020-11", end=pd.Period("2021-03", "M"))
    assert panel.periods.equals(pd.period_range("2020-11", "2021-03", freq="M"))
    np.testing.assert_array_equal(panel.values, [[np.nan, np.nan, 1.0, np.nan, 3.0]])


def test_all_series_keeps_series_outside_the_months_as_the_whole_panel_cut_would(flows):
    table = flows(
        [
            ("2017-05", "DEU", "ARM", "export", "851762", 9.0),  # HS2017, before the months
            ("2021-01", "DEU", "KGZ", "export", "854231", 1.0),
            ("2021-03", "DEU", "KGZ", "export", "85423190", 3.0),
            ("2021-03", "DEU", "KGZ", "export", "854231", 4.0),  # shadows its CN8 child
            ("2021-06", "FRA", "KGZ", "export", "854231", 6.0),  # after the months
            ("2021-02", "DEU", "KGZ", "export", "85", 5.0),  # coarse: left out
        ]
    )
    whole = build_panel(table).window("2021-01", "2021-04")
    cut = build_panel(table, start="2021-01", end="2021-04", all_series=True)
    pd.testing.assert_frame_equal(cut.keys, whole.keys)
    assert cut.periods.equals(whole.periods)
    np.testing.assert_array_equal(cut.values, whole.values)
    assert len(cut.keys) == 3
    # Without it, only the series with rows in the months are kept.
    assert len(build_panel(table, start="2021-01", end="2021-04").keys) == 1


@pytest.mark.parametrize("freq", ["Y", "Q", "D"])
def test_non_monthly_periods_are_refused_with_period_error(flows, freq):
    table = flows([("2021-01", "DEU", "KGZ", "export", "854231", 1.0)])
    table["period"] = pd.PeriodIndex(["2021-01-01"], freq=freq)
    with pytest.raises(PeriodError, match="monthly"):
        build_panel(table, harmonize=False)


def test_periods_given_as_text_are_refused_with_period_error(flows):
    table = flows([("2021-01", "DEU", "KGZ", "export", "854231", 1.0)])
    table["period"] = ["2021-01"]
    with pytest.raises(PeriodError):
        build_panel(table)


def test_empty_table_and_missing_columns_are_data_errors(flows):
    table = flows([("2021-01", "DEU", "KGZ", "export", "854231", 1.0)])
    with pytest.raises(DataError, match="empty"):
        build_panel(table.iloc[:0])
    with pytest.raises(DataError, match="partner"):
        build_panel(table.drop(columns="partner"))


def test_unknown_hs_level_is_refused(flows):
    table = flows([("2021-01", "DEU", "KGZ", "export", "854231", 1.0)])
    with pytest.raises(ValueError, match="hs_level"):
        build_panel(table, hs_level=5)


def test_harmonize_joins_an_hs2017_code_to_its_hs2022_successor(flows):
    # 8548.90 (HS2017) became 8548.00 in HS2022: the 2019 history continues the series.
    table = flows(
        [
            ("2019-06", "DEU", "KGZ", "export", "854890", 5.0),
            ("2023-06", "DEU", "KGZ", "export", "854800", 7.0),
        ]
    )
    panel = build_panel(table)
    assert panel.keys["hs"].tolist() == ["854800"]
    row = series_of(panel, hs="854800")
    assert row[panel.month_index("2019-06")] == 5.0
    assert row[panel.month_index("2023-06")] == 7.0
    assert np.isnan(row).sum() == panel.n_periods - 2

    apart = build_panel(table, harmonize=False)
    assert apart.keys["hs"].tolist() == ["854800", "854890"]


def test_harmonize_keeps_unchanged_codes_and_2022_codes_as_they_are(flows):
    table = flows(
        [
            ("2019-06", "DEU", "KGZ", "export", "85423190", 5.0),
            ("2023-06", "DEU", "KGZ", "export", "854890", 7.0),  # read as HS2022: as given
        ]
    )
    panel = build_panel(table)
    assert sorted(panel.keys["hs"].tolist()) == ["854231", "854890"]


def test_harmonize_sums_cn8_children_of_a_changed_code(flows):
    table = flows(
        [
            ("2019-06", "DEU", "KGZ", "export", "85489010", 2.0),
            ("2019-06", "DEU", "KGZ", "export", "85489090", 3.0),
        ]
    )
    panel = build_panel(table)
    assert panel.keys["hs"].tolist() == ["854800"]
    np.testing.assert_array_equal(panel.values, [[5.0]])


def test_harmonize_does_not_double_count_an_hs6_row_beside_its_cn8_children(flows):
    table = flows(
        [
            ("2019-06", "DEU", "KGZ", "export", "854890", 10.0),
            ("2019-06", "DEU", "KGZ", "export", "85489010", 4.0),
            ("2019-06", "DEU", "KGZ", "export", "85489090", 6.0),
        ]
    )
    assert build_panel(table, harmonize=False).values.tolist() == [[10.0]]
    assert build_panel(table, harmonize=True).values.tolist() == [[10.0]]


def test_optional_quantity_and_weight_are_summed_beside_values(flows):
    table = flows(
        [
            ("2021-01", "DEU", "KGZ", "export", "85423110", 1.0),
            ("2021-01", "DEU", "KGZ", "export", "85423190", 2.0),
        ]
    )
    table["quantity"] = [10.0, 20.0]
    table["weight_kg"] = [np.nan, 5.0]
    panel = build_panel(table, harmonize=False)
    assert set(panel.extra) == {"quantity", "weight_kg"}
    np.testing.assert_array_equal(panel.extra["quantity"], [[30.0]])
    np.testing.assert_array_equal(panel.extra["weight_kg"], [[5.0]])


def test_currency_and_float32_storage_are_kept(flows):
    table = flows([("2021-01", "DEU", "KGZ", "export", "854231", 1.5)], currency="USD")
    panel = build_panel(table, harmonize=False, dtype=np.float32)
    assert panel.currency == "USD"
    assert panel.values.dtype == np.float32
    assert panel.values[0, 0] == 1.5


def test_a_concatenated_table_with_repeated_index_labels_builds(flows):
    first = flows([("2021-01", "DEU", "KGZ", "export", "85423110", 1.0)])
    second = flows([("2021-01", "DEU", "KGZ", "export", "85423190", 2.0)])
    panel = build_panel(pd.concat([first, second]), harmonize=False)
    np.testing.assert_array_equal(panel.values, [[3.0]])


def test_leading_zeros_of_hs_codes_are_kept(flows):
    table = flows([("2021-01", "DEU", "KGZ", "export", "01012100", 1.0)])
    assert build_panel(table, harmonize=False).keys["hs"].tolist() == ["010121"]
