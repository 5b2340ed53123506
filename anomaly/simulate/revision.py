"""The 2022 HS revision: months before 2022 are published under HS2017 codes.

Declarations switch to HS2022 in January 2022. For the codes of
:data:`~anomaly.simulate.world.HS2017_PREDECESSOR`, every month before that is moved
from the HS2022 series to a series of the HS2017 code; where two HS2022 codes share one
predecessor (854151 and 854159 were 854150; 851713 and 851714 were 851712) the older
months are their sum, as the old code covered both. A model that does not apply the
concordance sees a series end in December 2021 and another begin in January 2022.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anomaly.simulate.timeline import HS_REVISION, Timeline
from anomaly.simulate.world import COUNTRIES, HS2017_PREDECESSOR

__all__ = ["RevisedRows", "split_revision"]


@dataclass(frozen=True)
class RevisedRows:
    """Series published under HS2017 codes, built from one block of declarations.

    Attributes
    ----------
    reporter, partner : numpy.ndarray of int
        Indices into :data:`~anomaly.simulate.world.COUNTRIES`.
    hs : numpy.ndarray of str
        HS2017 codes.
    values : numpy.ndarray of float32, shape (n, n_months)
        NaN from January 2022 on.
    """

    reporter: np.ndarray
    partner: np.ndarray
    hs: np.ndarray
    values: np.ndarray


def split_revision(
    values: np.ndarray,
    reporter: np.ndarray,
    partner: np.ndarray,
    hs: np.ndarray,
    timeline: Timeline,
) -> RevisedRows:
    """Move the pre-2022 months of revised codes to HS2017 series.

    ``values`` (one block of declarations sharing one flow, NaN where absent) loses
    those months in place.

    Examples
    --------
    >>> tl = Timeline.between("2021-11", "2022-02")
    >>> values = np.array([[1, 2, 3, 4], [10, np.nan, 30, 40], [5, 5, 5, 5]], np.float32)
    >>> old = split_revision(values, np.array([0, 0, 0]), np.array([1, 1, 1]),
    ...                      np.array(["854151", "854159", "854231"]), tl)
    >>> old.hs.tolist(), old.values.tolist()
    (['854150'], [[11.0, 2.0, nan, nan]])
    >>> values[0].tolist()
    [nan, nan, 3.0, 4.0]
    """
    cut = int(np.clip(timeline.column(HS_REVISION), 0, len(timeline)))
    rows = np.flatnonzero(np.isin(hs, list(HS2017_PREDECESSOR)))
    if cut == 0 or len(rows) == 0:
        empty = np.empty(0, dtype=np.int64)
        return RevisedRows(empty, empty, np.empty(0, dtype="<U6"), values[:0].copy())
    old_codes = sorted(set(HS2017_PREDECESSOR.values()))
    old = np.searchsorted(old_codes, [HS2017_PREDECESSOR[c] for c in hs[rows]])
    n_countries = len(COUNTRIES)
    group_code = (reporter[rows].astype(np.int64) * n_countries + partner[rows]) * len(
        old_codes
    ) + old
    groups, group = np.unique(group_code, return_inverse=True)

    before = values[rows, :cut]
    totals = np.zeros((len(groups), cut), dtype=np.float64)
    declared = np.zeros((len(groups), cut), dtype=bool)
    np.add.at(totals, group, np.nan_to_num(before))
    np.logical_or.at(declared, group, ~np.isnan(before))
    merged = np.full((len(groups), len(timeline)), np.nan, dtype=values.dtype)
    merged[:, :cut] = np.where(declared, totals, np.nan)
    values[rows, :cut] = np.nan

    pair, old_index = np.divmod(groups, len(old_codes))
    group_reporter, group_partner = np.divmod(pair, n_countries)
    return RevisedRows(group_reporter, group_partner, np.asarray(old_codes)[old_index], merged)
