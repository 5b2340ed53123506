"""How a forecast's error grows with the horizon: a share of each series' variance, or
the same for every series?

The pooled forecaster widens a series' log-scale spread to ``σ²_i · (1 + g·(h - 1))``
at horizon ``h`` (:func:`anomaly.forecast.pooled._horizon_growth`): the growth is a
share of each series' own variance. A level that wanders by the same amount whatever a
series' noise would instead add the same variance to every series. This experiment
reads which of the two each source follows, as ``experiments/history_wander.py`` did
for a short history: per source, the forecaster is trained on a pre-war window and
forecasts the next months; the series that traded in most training and forecast
months are binned into fifths by their variance (with the level's uncertainty), and
their mean squared log error is read over the first and the last months of the
forecast. Growth as a share: the ratio of late to early error is the same in every
fifth. The same growth for all: the difference is.

Sources (no setting is chosen here): the simulator world ``dev-sim-placebo-prewar`` and
the independent world ``dev-pub-placebo`` of ``experiments/worlds.json`` (no planted
evasion; trained 2015-01 or 2016-01..2018-12, months 1-6 and 25-36 of 2019-01..2021-12),
and the Eurostat file of sanctioned goods
``../shared/data/eurostat_sanctioned_exports_2020_2021_dev.csv.gz`` (trained on 2020,
months 1-3 and 10-12 of 2021: one year of training in a year of COVID, the weakest of
the three readings). Run from the repository root::

    python experiments/horizon_growth.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from generalisation import CACHE, build_world, load_worlds
from history_wander import by_fifth
from markdown_table import markdown

from anomaly import read_flows
from anomaly.forecast import PooledForecaster
from anomaly.panel import Panel, build_panel

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results" / "horizon_growth.md"
EUROSTAT = ROOT.parent / "shared" / "data" / "eurostat_sanctioned_exports_2020_2021_dev.csv.gz"
#: Share of months with trade a series needs in training and in the forecast months.
TRADED_SHARE = 0.8


def log_errors(panel: Panel, train_end: str, start: str, end: str) -> tuple:
    """Per series that traded in most months: its forecast's log-scale variance at
    horizon 1 and its log errors of ``start..end`` (``NaN`` where it did not trade)."""
    model = PooledForecaster().fit(panel, None, train_end)
    forecast = model.predict(start, end)
    while not hasattr(forecast, "loc"):  # the calibrated forecast wraps the log-normal one
        forecast = forecast.base
    state = model.state_
    variance = state["variance"] * (1 + 1 / np.maximum(state["n_effective"], 1))
    actual = np.nan_to_num(panel.window(start, end).values)
    traded = actual > 0
    errors = np.where(traded, np.log(np.where(traded, actual, 1.0)) - forecast.loc, np.nan)
    regular = (state["n_nonzero"] >= TRADED_SHARE * len(model.train_periods_)) & (
        traded.mean(axis=1) >= TRADED_SHARE
    )
    return variance[regular], errors[regular]


def growth_by_fifth(variance, errors, early: int, late: int, source: str) -> pd.DataFrame:
    """Mean squared log error of the first ``early`` and last ``late`` months, per fifth
    of the series' variance."""
    table = pd.DataFrame(
        {
            "variance": variance,
            "early": np.nanmean(errors[:, :early] ** 2, axis=1),
            "late": np.nanmean(errors[:, -late:] ** 2, axis=1),
        }
    )
    return by_fifth(table, "variance", "early", "late", source, ("late - early", "late / early"))


def main() -> None:
    warnings.simplefilter("ignore")
    specs = {spec.name: spec for spec in load_worlds("development")}
    tables = []
    for name in ("dev-sim-placebo-prewar", "dev-pub-placebo"):
        panel = build_panel(build_world(specs[name], CACHE).flows)
        variance, errors = log_errors(panel, "2018-12", "2019-01", "2021-12")
        tables.append(growth_by_fifth(variance, errors, 6, 12, f"{name}, months 1-6 / 25-36"))
    panel = build_panel(read_flows(EUROSTAT))
    variance, errors = log_errors(panel, "2020-12", "2021-01", "2021-12")
    tables.append(growth_by_fifth(variance, errors, 3, 3, "Eurostat 2021, months 1-3 / 10-12"))
    table = pd.concat(tables, ignore_index=True).round(3)
    print(table.to_string(index=False))
    RESULTS.write_text(
        "# How a forecast's error grows with the horizon\n\n"
        "Command: `python experiments/horizon_growth.py` (module docstring). Series that "
        "traded in most months, binned into fifths by their forecast variance; *early*, "
        "*late*: their mean squared log error over the first and the last months of the "
        "forecast.\n\n" + markdown(table) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
