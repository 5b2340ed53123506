"""aggregate_panel: summing series into country groups, HS levels and CHP tiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.panel import (
    Panel,
    aggregate_panel,
    chp_tier_membership,
    country_group_membership,
    hs_level_membership,
)

KEYS = [
    ("DEU", "KGZ", "export", "854231"),
    ("FRA", "KGZ", "export", "854231"),
    ("USA", "KGZ", "export", "854231"),
    ("DEU", "KGZ", "export", "854232"),
]
VALUES = [
    [1.0, np.nan, np.nan, 0.0],
    [2.0, 3.0, np.nan, np.nan],
    [4.0, np.nan, np.nan, 5.0],
    [8.0, 16.0, np.nan, np.nan],
]


def row(panel, reporter, hs="854231"):
    mask = (panel.keys["reporter"] == reporter) & (panel.keys["hs"] == hs)
    assert mask.sum() == 1
    return panel.values[mask.to_numpy()][0]


def test_reporters_sum_to_a_group_with_nan_only_where_no_member_reported(panel_of):
    panel = panel_of(KEYS, VALUES, "2021-01")
    eu = aggregate_panel(panel, {"reporter": {"DEU": "EU", "FRA": "EU"}})
    assert eu.keys.to_numpy().tolist() == [
        ["EU", "KGZ", "export", "854231"],
        ["EU", "KGZ", "export", "854232"],
    ]
    np.testing.assert_array_equal(row(eu, "EU"), [3.0, 3.0, np.nan, 0.0])
    np.testing.assert_array_equal(row(eu, "EU", "854232"), [8.0, 16.0, np.nan, np.nan])


def test_reporters_outside_the_membership_are_left_out(panel_of):
    panel = panel_of(KEYS, VALUES, "2021-01")
    eu = aggregate_panel(panel, {"reporter": {"DEU": "EU", "FRA": "EU"}})
    assert "USA" not in set(eu.keys["reporter"])


def test_a_country_in_two_groups_counts_in_each(panel_of):
    panel = panel_of(KEYS, VALUES, "2021-01")
    membership = pd.DataFrame(
        {"country": ["DEU", "FRA", "DEU", "FRA", "USA"], "group": ["EU", "EU", "G7", "G7", "G7"]}
    )
    groups = aggregate_panel(panel, {"reporter": membership, "hs": {"854231": "8542"}})
    assert groups.keys["reporter"].tolist() == ["EU", "G7"]
    np.testing.assert_array_equal(row(groups, "EU", "8542"), [3.0, 3.0, np.nan, 0.0])
    np.testing.assert_array_equal(row(groups, "G7", "8542"), [7.0, 3.0, np.nan, 5.0])


def test_real_country_groups_file_a_country_under_each_group(panel_of):
    panel = panel_of(KEYS, VALUES, "2021-01")
    membership = country_group_membership(["EU27", "G7"])
    groups = aggregate_panel(panel, {"reporter": membership})
    assert set(groups.keys["reporter"]) == {"EU27", "G7"}
    np.testing.assert_array_equal(row(groups, "G7"), [7.0, 3.0, np.nan, 5.0])
    np.testing.assert_array_equal(row(groups, "EU27"), [3.0, 3.0, np.nan, 0.0])


def test_hs_level_membership_sums_hs6_codes_to_their_heading(panel_of):
    panel = panel_of(KEYS, VALUES, "2021-01")
    membership = hs_level_membership(panel.keys["hs"], 4)
    assert membership == {"854231": "8542", "854232": "8542"}
    by_heading = aggregate_panel(panel, {"hs": membership})
    np.testing.assert_array_equal(row(by_heading, "DEU", "8542"), [9.0, 16.0, np.nan, 0.0])
    assert by_heading.n_series == 3


def test_chp_tier_membership_files_chp_codes_under_their_tier():
    membership = chp_tier_membership("2024-02")
    assert len(membership) == 50
    assert membership["854231"] == "CHP tier 1"
    assert all(label.startswith("CHP tier ") for label in membership.values())


def test_extra_matrices_are_aggregated_and_dtype_kept(panel_of):
    panel = panel_of(KEYS, VALUES, "2021-01")
    weight = np.where(np.isnan(panel.values), np.nan, 1.0).astype(np.float32)
    panel = Panel(
        panel.keys, panel.periods, panel.values.astype(np.float32), "USD", {"weight_kg": weight}
    )
    total = aggregate_panel(panel, {"reporter": {"DEU": "ALL", "FRA": "ALL", "USA": "ALL"}})
    assert total.values.dtype == np.float32 and total.currency == "USD"
    np.testing.assert_array_equal(row(total, "ALL"), [7.0, 3.0, np.nan, 5.0])
    weights = total.extra["weight_kg"][(total.keys["hs"] == "854231").to_numpy()][0]
    np.testing.assert_array_equal(weights, [3.0, 1.0, np.nan, 2.0])


def test_aggregating_by_a_non_key_column_is_refused(panel_of):
    panel = panel_of(KEYS, VALUES, "2021-01")
    with pytest.raises(ValueError, match="cannot aggregate"):
        aggregate_panel(panel, {"value": {"a": "b"}})
