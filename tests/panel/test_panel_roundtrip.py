"""Property: a canonical table with unique keys survives build_panel → Panel.to_flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anomaly.panel import build_panel
from anomaly.schema import FLOWS, KEY_COLUMNS

MONTHS = pd.period_range("2019-11", "2021-02", freq="M")

keys = st.tuples(
    st.sampled_from(range(len(MONTHS))),
    st.sampled_from(["DEU", "FRA", "KGZ", "ARM"]),
    st.sampled_from(["RUS", "KAZ", "KGZ"]),
    st.sampled_from(FLOWS),
    st.sampled_from(["010121", "854231", "847150", "880730", "999999"]),
)
values = st.floats(min_value=0.0, max_value=1e12, allow_nan=False, allow_infinity=False)
tables = st.dictionaries(keys, values, min_size=1, max_size=40)


def canonical(entries: dict) -> pd.DataFrame:
    rows = [(MONTHS[m], r, p, f, hs, v) for (m, r, p, f, hs), v in entries.items()]
    table = pd.DataFrame(rows, columns=[*KEY_COLUMNS, "value"])
    table["period"] = pd.PeriodIndex(table["period"], freq="M")
    return table


def sorted_rows(table: pd.DataFrame) -> pd.DataFrame:
    table = table[[*KEY_COLUMNS, "value"]].astype({"period": str, "hs": str})
    return table.sort_values(list(KEY_COLUMNS)).reset_index(drop=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_unique_hs6_rows_round_trip_through_the_panel(entries):
    table = canonical(entries)
    panel = build_panel(table, harmonize=False, hs_level=6)

    assert panel.n_series == len(table.drop_duplicates(["reporter", "partner", "flow", "hs"]))
    assert panel.periods[0] == table["period"].min()
    assert panel.periods[-1] == table["period"].max()

    back = sorted_rows(panel.to_flows())
    expected = sorted_rows(table)
    assert back[list(KEY_COLUMNS)].astype(str).equals(expected[list(KEY_COLUMNS)].astype(str))
    np.testing.assert_array_equal(back["value"].to_numpy(), expected["value"].to_numpy())
