"""Which training months of a reporter are unknown rather than months without trade."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from anomaly.forecast.publication import (
    GAP_MIN_ROWS,
    declared_rows,
    log_unpublished,
    unpublished_months,
)
from anomaly.panel import Panel


def test_a_month_without_any_declaration_of_a_busy_reporter_is_unknown():
    declared = np.full((1, 12), GAP_MIN_ROWS)
    declared[0, [4, 5, 11]] = 0  # a gap of two months, and the last month
    found = unpublished_months(declared, np.array([0, 0, 0]))
    assert found.months.tolist() == [[m in (4, 5, 11) for m in range(12)]]
    assert found.series_months().shape == (3, 12)


def test_empty_months_of_a_reporter_of_few_series_are_months_without_trade():
    declared = np.full((1, 12), GAP_MIN_ROWS - 1)
    declared[0, [4, 5]] = 0
    assert unpublished_months(declared, np.array([0])) is None


def test_months_before_a_late_reporter_s_first_are_unknown_however_few_its_series():
    declared = np.array([[0, 0, 0, 1, 2, 1, 1, 2, 1, 1], [0, 0, 0, 1, 0, 0, 1, 0, 0, 1]])
    found = unpublished_months(declared, np.array([1, 0, 0]))
    # The second reporter is sparse after its first month: its empty months before
    # read as no trade, like its empty months after.
    assert found.months.sum(axis=1).tolist() == [3, 0]
    assert found.of(np.array([2])).first(4).series_months().tolist() == [[1, 1, 1, 0]]


def test_a_reporter_with_too_few_declared_months_to_read_is_left_as_it_is():
    declared = np.zeros((1, 12), dtype=int)
    declared[0, [0, 1]] = 100  # two months: no usual month to read
    assert unpublished_months(declared, np.array([0])) is None


def test_declared_rows_counts_each_publisher_s_series_over_the_window():
    keys = pd.DataFrame(
        {
            "reporter": ["KGZ", "DEU", "KGZ"],
            "partner": ["DEU", "KGZ", "RUS"],
            "flow": ["import", "export", "export"],
            "hs": ["854231"] * 3,
        }
    )
    values = np.array([[1.0, np.nan, 2.0], [np.nan, 3.0, 4.0], [5.0, 6.0, np.nan]])
    panel = Panel(keys, pd.period_range("2021-01", periods=3, freq="M"), values)
    # The window runs a month before the panel and a month after its second month.
    counts, publisher, reporter = declared_rows(
        panel, pd.Period("2020-12", "M"), pd.Period("2021-02", "M")
    )
    assert counts[publisher].tolist() == [[0, 1, 0], [0, 0, 1], [0, 1, 1]]
    # KGZ's imports and exports are two publishers of one reporter, DEU's another.
    kgz_imports, deu_exports, kgz_exports = reporter[publisher]
    assert kgz_imports == kgz_exports != deu_exports
    assert publisher[0] != publisher[2]
    whole = panel.publishers_declared()
    assert whole.loc[("KGZ", "imports")].tolist() == [1, 0, 1]
    assert whole.loc[("KGZ", "exports")].tolist() == [1, 1, 0]
    assert panel.reporters_declared().loc["KGZ"].tolist() == [2, 1, 1]


def test_a_month_one_direction_was_not_published_is_unknown_for_that_direction_only():
    # A reporter's imports (publisher 0) every month; its exports (publisher 1) missing
    # in month 3, which its imports do not make known.
    declared = np.array([[30] * 6, [25, 25, 25, 0, 25, 25]])
    found = unpublished_months(declared, np.array([0, 1]), reporter=np.array([0, 0]))
    assert found.series_months().astype(int).tolist() == [[0] * 6, [0, 0, 0, 1, 0, 0]]


def test_a_late_start_is_read_on_the_reporter_s_two_directions_together():
    # Exports (few series) begin in month 2 while imports were published from month 0:
    # the exports are not a late start, but a reporter with nothing before month 2 is.
    exports_late = np.array([[5] * 6, [0, 0, 1, 2, 1, 1]])
    assert unpublished_months(exports_late, np.array([0, 1]), np.array([0, 0])) is None
    both_late = np.array([[0, 0, 5, 5, 5, 5], [0, 0, 1, 2, 1, 1]])
    found = unpublished_months(both_late, np.array([0, 1]), np.array([0, 0]))
    assert found.months.astype(int).tolist() == [[1, 1, 0, 0, 0, 0]] * 2


def test_the_unknown_months_are_logged_by_publisher(caplog):
    declared = np.array([[30, 30, 0, 0, 30, 30], [0, 0, 3, 3, 3, 3]])
    found = unpublished_months(declared, np.array([0, 0, 1]))
    keys = pd.DataFrame({"reporter": ["DEU", "DEU", "KGZ"], "flow": ["export", "export", "import"]})
    with caplog.at_level(logging.INFO, logger="anomaly.forecast.publication"):
        log_unpublished(keys, found, pd.period_range("2020-01", periods=6, freq="M"))
    assert "DEU exports not published in 2 month(s) of 2020-03..2020-04" in caplog.text
    assert "KGZ imports first published 2020-03" in caplog.text
