"""Simulated panels with planted parameters, shared by the anomaly.forecast tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from anomaly.panel import Panel

#: The planted seasonal profile in logs (amplitude 0.3, mean zero).
PROFILE = 0.3 * np.sin(2 * np.pi * np.arange(12) / 12)


@dataclass
class Simulated:
    """A panel and the truth behind it."""

    panel: Panel
    log_level: np.ndarray  # (n_series,)
    true_mean: np.ndarray  # (n_series, n_months): E[value] with absent months as zero
    sigma: float
    p_nonzero: float
    profile: np.ndarray = field(default_factory=PROFILE.copy)  # planted, by calendar month


def simulate(
    n_series: int = 400,
    n_months: int = 96,
    *,
    p_nonzero: float = 1.0,
    sigma: float = 0.5,
    seed: int = 0,
    start: str = "2015-01",
) -> Simulated:
    """Log-normal monthly trade around a per-series level and a common seasonal profile.

    A month trades with probability ``p_nonzero`` (else it is absent, ``NaN``); its
    value is ``exp(level + PROFILE[month] + N(0, sigma²))``.
    """
    rng = np.random.default_rng(seed)
    periods = pd.period_range(start, periods=n_months, freq="M")
    level = rng.uniform(8.0, 14.0, n_series)
    loc = level[:, None] + PROFILE[periods.month.to_numpy() - 1][None, :]
    values = np.exp(loc + rng.normal(0.0, sigma, size=loc.shape))
    values[rng.random(loc.shape) >= p_nonzero] = np.nan
    keys = pd.DataFrame(
        {
            "reporter": rng.choice(["DEU", "FRA", "ITA"], n_series),
            "partner": "KGZ",
            "flow": "export",
            "hs": [f"{i:06d}" for i in range(n_series)],
        }
    )
    true_mean = p_nonzero * np.exp(loc + sigma**2 / 2)
    return Simulated(Panel(keys, periods, values), level, true_mean, sigma, p_nonzero)


def with_values(panel: Panel, values: np.ndarray) -> Panel:
    """The same keys and months with other values."""
    return Panel(panel.keys, panel.periods, values)


@pytest.fixture(scope="session")
def simulated() -> Callable[..., Simulated]:
    return simulate


@pytest.fixture(scope="session")
def replace_values() -> Callable[[Panel, np.ndarray], Panel]:
    return with_values


@pytest.fixture
def tiny_panel() -> Callable[..., Panel]:
    """A one-or-more-series panel from explicit rows (NaN = not reported)."""

    def build(rows, start: str = "2021-01") -> Panel:
        values = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        n = len(values)
        keys = pd.DataFrame(
            {
                "reporter": ["DEU"] * n,
                "partner": ["KGZ"] * n,
                "flow": ["export"] * n,
                "hs": [f"{i:06d}" for i in range(n)],
            }
        )
        return Panel(keys, pd.period_range(start, periods=values.shape[1], freq="M"), values)

    return build
