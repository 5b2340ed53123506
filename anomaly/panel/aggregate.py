"""Sum panel series into coarser ones: HS levels, CHP tiers, country groups."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from anomaly.panel.core import Panel
from anomaly.schema import SERIES_KEY_COLUMNS

#: For one key column, which new label(s) each old label goes to. A label may go to
#: several groups (a country in both ``G7`` and ``coalition``); labels absent from the
#: table are left out of the result.
Membership = pd.DataFrame | Mapping[str, str]


def aggregate_panel(panel: Panel, by: Mapping[str, Membership]) -> Panel:
    """Sum series whose keys map to the same new key.

    Parameters
    ----------
    panel : Panel
    by : mapping of key column to membership
        For each column to relabel (``reporter``, ``partner``, ``flow`` or ``hs``)
        either a dict ``old -> new`` or a two-column DataFrame ``(old, new)`` that may
        list one old label under several new ones. Columns not named keep their labels.

    Returns
    -------
    Panel
        A month that no member series reported stays ``NaN``; otherwise the sum of
        the members that reported it.

    Examples
    --------
    >>> keys = pd.DataFrame({"reporter": ["DEU", "FRA"], "partner": ["KGZ", "KGZ"],
    ...                      "flow": ["export", "export"], "hs": ["854231", "854232"]})
    >>> p = Panel(keys, pd.period_range("2021-01", periods=2, freq="M"),
    ...           np.array([[1.0, np.nan], [2.0, np.nan]]))
    >>> eu = aggregate_panel(p, {"reporter": {"DEU": "EU27", "FRA": "EU27"},
    ...                          "hs": {"854231": "8542", "854232": "8542"}})
    >>> eu.keys.to_dict("records"), eu.values.tolist()
    ([{'reporter': 'EU27', 'partner': 'KGZ', 'flow': 'export', 'hs': '8542'}], [[3.0, nan]])
    """
    unknown = set(by) - set(SERIES_KEY_COLUMNS)
    if unknown:
        raise ValueError(
            f"cannot aggregate by {sorted(unknown)}; key columns are {SERIES_KEY_COLUMNS}"
        )
    expanded = panel.keys.reset_index(names="_row")
    for column, membership in by.items():
        table = _membership_frame(membership, column)
        expanded = expanded.merge(table, on=column, how="inner").drop(columns=column)
        expanded = expanded.rename(columns={"_new": column})
    expanded = expanded.sort_values([*SERIES_KEY_COLUMNS, "_row"], kind="stable")
    group = expanded.groupby(list(SERIES_KEY_COLUMNS), sort=True, observed=True).ngroup()
    keys = expanded.loc[:, list(SERIES_KEY_COLUMNS)].drop_duplicates().reset_index(drop=True)
    summing = sparse.csr_matrix(
        (np.ones(len(expanded)), (group.to_numpy(), expanded["_row"].to_numpy())),
        shape=(len(keys), panel.n_series),
    )
    return Panel(
        keys,
        panel.periods,
        _nan_sum(summing, panel.values),
        panel.currency,
        {name: _nan_sum(summing, matrix) for name, matrix in panel.extra.items()},
    )


def hs_level_membership(codes: pd.Series, level: int) -> dict[str, str]:
    """Membership that cuts HS codes to their first ``level`` digits.

    Examples
    --------
    >>> hs_level_membership(pd.Series(["854231", "848210"]), 4)
    {'854231': '8542', '848210': '8482'}
    """
    unique = pd.unique(codes.astype(str))
    return {code: code[:level] for code in unique if len(code) >= level}


def chp_tier_membership(version: str = "2024-02") -> dict[str, str]:
    """Membership that files each CHP HS6 code under ``"CHP tier <tier>"``."""
    from anomaly.reference import chp_list

    chp = chp_list(version)
    return {code: f"CHP tier {tier}" for code, tier in zip(chp["hs6"], chp["tier"], strict=True)}


def country_group_membership(groups: list[str]) -> pd.DataFrame:
    """Membership that files each country under every named group it belongs to."""
    from anomaly.reference import country_group

    rows = [(code, name) for name in groups for code in sorted(country_group(name))]
    return pd.DataFrame(rows, columns=["_old", "_new"])


def _membership_frame(membership: Membership, column: str) -> pd.DataFrame:
    if isinstance(membership, pd.DataFrame):
        table = membership.set_axis(["_old", "_new"], axis=1)
    else:
        table = pd.DataFrame(list(membership.items()), columns=["_old", "_new"])
    table = table.astype(str).drop_duplicates()
    return table.rename(columns={"_old": column})


def _nan_sum(summing: sparse.csr_matrix, matrix: np.ndarray) -> np.ndarray:
    reported = ~np.isnan(matrix)
    totals = summing @ np.where(reported, matrix, 0.0)
    counts = summing @ reported.astype(np.float32)
    return np.where(counts > 0, totals, np.nan).astype(matrix.dtype)
