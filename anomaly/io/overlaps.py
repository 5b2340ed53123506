"""Find HS codes published beside their own, more detailed children.

Eurostat extracts can hold the HS4 heading 8542 and its CN8 codes 8542xxxx for the
same reporter, partner, flow and month; Comtrade files can hold a TOTAL beside the
products. Summing such rows counts the same trade twice. Reading keeps the rows as
published and records the overlap; choosing one level is the panel's job.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.errors import MAX_LISTED
from anomaly.io.codes import TOTAL_HS
from anomaly.schema import KEY_COLUMNS

_GROUP_COLUMNS = [column for column in KEY_COLUMNS if column != "hs"]


def no_overlaps() -> dict[str, object]:
    """What :func:`find_overlaps` records where no code can overlap another."""
    return {"count": 0, "child_rows": 0, "examples": []}


def may_overlap(codes: pd.Index) -> bool:
    """Whether distinct HS codes can overlap: a total, or codes of more than one length.

    Examples
    --------
    >>> may_overlap(pd.Index(["854231", "854239"])), may_overlap(pd.Index(["8542", "854231"]))
    (False, True)
    """
    text = pd.Series(np.asarray(codes, dtype=object), dtype=object)
    return bool((text == TOTAL_HS).any()) or text.str.len().nunique() > 1


def find_overlaps(
    table: pd.DataFrame, group: np.ndarray, hs: np.ndarray, codes: pd.Index, limit: int = MAX_LISTED
) -> dict[str, object]:
    """Record the rows whose HS code has more detailed codes in the same group.

    Parameters
    ----------
    table : DataFrame
        Canonical rows, sorted by key.
    group : ndarray of int
        One integer per (period, reporter, partner, flow) combination, per row,
        increasing with the sort order.
    hs : ndarray of int
        Per row, the position of its HS code in ``codes``.
    codes : Index of str
        The distinct HS codes, sorted (so that ``(group, hs)`` increases row by row).
    limit : int
        How many examples to keep.

    Returns
    -------
    dict
        ``count`` (parent rows: codes beside their children), ``child_rows`` (rows
        below such a parent) and ``examples`` (the first parents in key order, each
        with its key, its HS code and its number of children).

    Examples
    --------
    >>> table = pd.DataFrame({"period": "2020-01", "reporter": "DEU", "partner": "RUS",
    ...     "flow": "export", "hs": ["8542", "85423190", "85423911"]})
    >>> found = find_overlaps(table, np.zeros(3, dtype=int), np.arange(3), pd.Index(table["hs"]))
    >>> found["count"], found["examples"][0]["hs"], found["examples"][0]["children"]
    (1, '8542', 2)
    """
    text = pd.Series(np.asarray(codes, dtype=object), dtype=object)
    length = text.str.len().to_numpy()
    total = (text == TOTAL_HS).to_numpy()
    # Rows are sorted by (group, hs): one int per row, increasing, finds a row by key.
    pair = group.astype(np.int64) * len(text) + hs
    position = pd.Series(np.arange(len(text)), index=text.to_numpy())
    children = np.zeros(len(pair), dtype=np.int64)
    is_child = np.zeros(len(pair), dtype=bool)
    for parent_length in np.unique(length[~total])[:-1]:
        parent = text.str[:parent_length].map(position).fillna(-1).to_numpy(dtype=np.int64)
        parent = np.where((length <= parent_length) | total, -1, parent)
        rows = np.flatnonzero(parent[hs] >= 0)
        wanted = group[rows].astype(np.int64) * len(text) + parent[hs[rows]]
        found = np.minimum(np.searchsorted(pair, wanted), len(pair) - 1)
        hit = pair[found] == wanted
        np.add.at(children, found[hit], 1)
        is_child[rows[hit]] = True
    if total.any():
        # A total is the parent of every product code of its group.
        row_total = total[hs]
        products = np.bincount(group[~row_total], minlength=int(group.max()) + 1)
        children[row_total] += products[group[row_total]]
        is_child |= ~row_total & np.isin(group, group[row_total])
    parents = np.flatnonzero(children)
    examples = [
        {
            **{column: str(table[column].iloc[row]) for column in _GROUP_COLUMNS},
            "hs": text.iloc[hs[row]],
            "children": int(children[row]),
        }
        for row in parents[:limit]
    ]
    return {"count": len(parents), "child_rows": int(is_child.sum()), "examples": examples}
