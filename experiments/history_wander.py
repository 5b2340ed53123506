"""What a short history misses: the wander a series' variance gains over a whole window.

The pooled forecaster adds to the variance of a series read over fewer months than the
window holds (a reporter that started late, a flow born in the window) the wander it
has not seen (:func:`anomaly.forecast.pooled._history_wander`): a difference of mean
variances, not a ratio. This experiment shows why. Per source, the series that traded
from the window's first months on and in at least half of them are read twice, over
their last 12 months and over the whole window (their level, trend and residual
variance as the forecaster reads them; flat seasonal profile, equal weights), and
binned into fifths by the first variance: if the wander a year misses were a share of a
series' noise, the gain (whole minus last 12) would grow with the bin and the ratio
stay; if it is the same wander whatever the noise, the gain stays and the ratio falls.

Sources, all of the development side (no setting is chosen here, the forecaster has
none for this): the simulator world ``dev-sim-default`` and the independent world
``dev-pub-clean-1`` of ``experiments/worlds.json`` (training windows 2015-01..2021-12
and 2016-01..2021-12), and the Eurostat file of sanctioned goods
``../shared/data/eurostat_sanctioned_exports_2020_2021_dev.csv.gz`` (its CN8 rows, 24
months). Run from the repository root::

    python experiments/history_wander.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from generalisation import CACHE, KEYS, build_world, load_worlds
from markdown_table import markdown

from anomaly.forecast import pooled

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results" / "history_wander.md"
EUROSTAT = ROOT.parent / "shared" / "data" / "eurostat_sanctioned_exports_2020_2021_dev.csv.gz"
SHORT = 12
WORLDS = {"dev-sim-default": "2015-01", "dev-pub-clean-1": "2016-01"}


def gains(values: np.ndarray, months: np.ndarray, source: str) -> pd.DataFrame:
    """Per fifth of the 12-month variance, the mean variances and their gain and ratio."""
    rows = values[pooled._whole_window(values)]
    flat, equal = np.zeros((len(rows), 12)), np.ones(rows.shape[1])
    defaults = pooled.PooledForecaster()
    full, _ = pooled._variance_over_last(rows, flat, equal, months, defaults, rows.shape[1])
    part, n_nonzero = pooled._variance_over_last(rows, flat, equal, months, defaults, SHORT)
    read = np.isfinite(full) & np.isfinite(part) & (n_nonzero >= SHORT // 2)
    table = pd.DataFrame({"last 12": part[read], "whole": full[read]})
    return by_fifth(table, "last 12", "last 12", "whole", source, ("gain", "ratio"))


def by_fifth(
    table: pd.DataFrame, by: str, earlier: str, later: str, source: str, names: tuple[str, str]
) -> pd.DataFrame:
    """Means of ``table``'s columns per fifth of column ``by``, with ``later`` less
    ``earlier`` and ``later`` over ``earlier`` (named ``names``), each fifth's number of
    series and ``source``."""
    fifth = (pd.qcut(table[by], 5, labels=False) + 1).rename("fifth")
    out = table.groupby(fifth).mean()
    out[names[0]] = out[later] - out[earlier]
    out[names[1]] = out[later] / out[earlier]
    out.insert(0, "series", table.groupby(fifth).size())
    out.insert(0, "source", source)
    return out.reset_index()


def matrix(flows: pd.DataFrame, keys: list[str], first: str, last: str) -> tuple:
    """Values of ``first..last`` as a (series, months) matrix, zeros where no row."""
    period = pd.PeriodIndex(flows["period"].astype(str), freq="M")
    inside = (period >= pd.Period(first, "M")) & (period <= pd.Period(last, "M"))
    window = flows[inside].assign(period=period[inside])
    wide = window.pivot_table(index=keys, columns="period", values="value", aggfunc="sum")
    wide = wide.reindex(columns=pd.period_range(first, last, freq="M")).fillna(0.0)
    return wide.to_numpy(), wide.columns.month.to_numpy() - 1


def main() -> None:
    warnings.simplefilter("ignore")
    specs = {spec.name: spec for spec in load_worlds("development")}
    tables = []
    for name, first in WORLDS.items():
        world = build_world(specs[name], CACHE)
        tables.append(gains(*matrix(world.flows, KEYS, first, "2021-12"), name))
    eurostat = pd.read_csv(EUROSTAT, dtype={"product": str})
    eurostat = eurostat[eurostat["product"].str.len() == 8]  # not their HS4 parents
    keys = ["reporter", "partner", "product", "flow"]
    tables.append(gains(*matrix(eurostat, keys, "2020-01", "2021-12"), "Eurostat 2020-2021"))
    table = pd.concat(tables, ignore_index=True).round(3)
    print(table.to_string(index=False))
    RESULTS.write_text(
        "# What a short history misses\n\n"
        "Command: `python experiments/history_wander.py` (module docstring). Whole-window "
        "series binned into fifths by their residual variance over the last 12 months; "
        "*whole*: their variance over the whole window; *gain*: whole minus last 12. "
        "The top fifth's gain is below zero: a variance read over 12 months is high "
        "partly by chance, and regresses to the mean (the forecaster's prior on a "
        "series' variance, from flows of its size, pulls such a variance back).\n\n"
        + markdown(table)
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
