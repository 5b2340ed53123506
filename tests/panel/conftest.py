"""Builders shared by the anomaly.panel tests: small canonical flows tables and panels."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from anomaly.panel import Panel

FLOW_COLUMNS = ["period", "reporter", "partner", "flow", "hs", "value"]

Row = tuple[str, str, str, str, str, float]


def canonical_flows(rows: Sequence[Row], currency: str | None = "EUR") -> pd.DataFrame:
    """A canonical flows table from ``(period, reporter, partner, flow, hs, value)`` rows."""
    table = pd.DataFrame(list(rows), columns=FLOW_COLUMNS)
    table["period"] = pd.PeriodIndex(table["period"], freq="M")
    table["value"] = table["value"].astype(np.float64)
    table.attrs["currency"] = currency
    return table


def small_panel(
    keys: Sequence[tuple[str, str, str, str]], values: Sequence[Sequence[float]], start: str
) -> Panel:
    """A panel of the given ``(reporter, partner, flow, hs)`` keys and value rows."""
    matrix = np.asarray(values, dtype=np.float64)
    key_table = pd.DataFrame(list(keys), columns=["reporter", "partner", "flow", "hs"])
    return Panel(key_table, pd.period_range(start, periods=matrix.shape[1], freq="M"), matrix)


@pytest.fixture
def flows() -> Callable[..., pd.DataFrame]:
    return canonical_flows


@pytest.fixture
def panel_of() -> Callable[..., Panel]:
    return small_panel
