"""Baseline paths: magnitudes, noise, intermittency, seasonality and the COVID dip."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.simulate.world import EU27

from .conftest import window_mean


def test_covid_dip_in_the_cross_section(wide):
    april_2020, april_2019 = wide[pd.Period("2020-04", "M")], wide[pd.Period("2019-04", "M")]
    both = (april_2020 > 0) & (april_2019 > 0)
    assert (april_2020[both] / april_2019[both]).median() < 0.8
    # ... and trade recovers by the next spring.
    april_2021 = wide[pd.Period("2021-04", "M")]
    both = (april_2021 > 0) & (april_2019 > 0)
    assert (april_2021[both] / april_2019[both]).median() > 0.9


def test_magnitudes_span_orders(wide):
    mean = window_mean(wide, "2015-01", "2021-12")
    level = np.log10(mean[mean > 0])
    low, high = np.percentile(level, [1, 99])
    assert high - low > 4
    assert 3.5 < np.median(level) < 6.5


def test_small_flows_are_intermittent_and_noisy(world):
    exports = world.flows[world.flows["flow"] == "export"]
    series = exports.groupby(["reporter", "partner", "hs"])["value"]
    stats = pd.DataFrame(
        {
            "months": series.size(),
            "level": series.median().map(np.log10),
            "noise": series.agg(lambda v: np.log(v).diff().std()),
        }
    )
    small, large = stats[stats["level"] < 3.5], stats[stats["level"] > 5.5]
    assert small["months"].median() < 0.6 * large["months"].median()
    assert small["noise"].median() > 1.5 * large["noise"].median()


def test_european_august_dip(world):
    exports = world.flows[
        (world.flows["flow"] == "export")
        & world.flows["reporter"].isin(list(EU27))
        & (world.flows["period"] < pd.Period("2020-01", "M"))
    ]
    month = exports["period"].dt.month
    by_month = exports.groupby(month)["value"].apply(lambda v: np.log(v).mean())
    assert by_month[8] < by_month[[6, 9]].mean() - 0.05
