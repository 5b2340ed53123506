"""HS revision concordance, so that a 2015-2021 baseline lines up with HS2022 codes.

Trade data are filed under the HS revision in force at the time: HS2012 for 2012-2016,
HS2017 for 2017-2021, HS2022 from 2022. Six CHP codes are HS2022 codes whose history
sits under other HS2017 codes (854890 became 854800, 854140 split into 854141-854149,
...). :func:`harmonize_hs` re-files every code under the HS2022 code its series should
continue as.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from anomaly.reference._resources import read_table

__all__ = [
    "RELATIONS",
    "harmonize_hs",
    "hs2022_predecessors",
    "hs_concordance",
    "split_families",
]

#: Relation labels, from "no change" to "least exact". A code that goes through two
#: revision steps reports the less exact of the two.
RELATIONS: tuple[str, ...] = ("unchanged", "1:1", "n:1", "1:n", "n:n")
_RANK = {relation: rank for rank, relation in enumerate(RELATIONS)}
_APPROXIMATE = frozenset({"1:n", "n:n"})
# (first year, revision) in force, latest first; years before 2012 are read as HS2012
# because the table does not cover HS2007 (the package's baselines start in 2015).
_REVISION_YEARS = ((2022, "HS2022"), (2017, "HS2017"), (0, "HS2012"))
_STEPS = {"HS2012": ("HS2012", "HS2017"), "HS2017": ("HS2017",), "HS2022": ()}


def hs_concordance() -> pd.DataFrame:
    """Return the HS6 correspondence table (a copy).

    Returns
    -------
    pandas.DataFrame
        Columns ``from_revision`` (``HS2012`` or ``HS2017``), ``from_code``,
        ``to_revision`` (the next revision), ``to_code``, ``relation`` (``1:1``, ``n:1``,
        ``1:n``, ``n:n`` in the sense of the WCO correlation tables; an unchanged code is
        a ``1:1`` row to itself), ``primary`` (bool: the successor :func:`harmonize_hs`
        files a split code under) and ``note``. It covers every CHP code and its
        predecessors, and the other subheadings of the families that changed.

    Examples
    --------
    >>> table = hs_concordance()
    >>> step = table[table["from_revision"] == "HS2017"]
    >>> step.loc[step["from_code"] == "854890", "to_code"].item()
    '854800'
    """
    table = read_table("hs_concordance.csv").copy()
    table["primary"] = table["primary"] == "true"
    return table


@lru_cache(maxsize=1)
def split_families() -> dict[str, str]:
    """HS2022 codes born of a split, each mapped to its family's primary successor.

    A series filed under a split code cannot be matched to its own pre-2022 history
    (the old code covered the whole family); merging the family into one series
    keeps the history continuous at the cost of the split's detail.

    Examples
    --------
    >>> families = split_families()
    >>> families["854151"], families["854159"]
    ('854159', '854159')
    """
    table = hs_concordance()
    splits = table[(table["relation"] == "1:n") & (table["to_revision"] == "HS2022")]
    primary = splits[splits["primary"].astype(str).str.lower() == "true"]
    family_of = dict(zip(primary["from_code"], primary["to_code"], strict=True))
    return {
        code: family_of[origin]
        for origin, code in zip(splits["from_code"], splits["to_code"], strict=True)
        if origin in family_of
    }


@lru_cache(maxsize=1)
def hs2022_predecessors() -> dict[str, tuple[str, ...]]:
    """HS2022 codes that did not exist before 2022, each with its HS2017 predecessors.

    A series of such a code has its pre-2022 history under the predecessors: where
    the data hold none of them, that history is unknown, not zero.

    Examples
    --------
    >>> hs2022_predecessors()["880730"]
    ('880330',)
    >>> "854231" in hs2022_predecessors()  # unchanged in HS2022
    False
    """
    table = hs_concordance()
    step = table[(table["from_revision"] == "HS2017") & (table["to_revision"] == "HS2022")]
    existing = set(step["from_code"])
    renamed = step[(step["from_code"] != step["to_code"]) & ~step["to_code"].isin(existing)]
    return {
        code: tuple(sorted(rows["from_code"]))
        for code, rows in renamed.groupby("to_code", sort=True)
    }


@lru_cache(maxsize=1)
def _steps() -> dict[str, dict[str, tuple[str, str]]]:
    """``{from_revision: {from_code: (to_code, relation)}}`` using the primary successor.

    Cached: it is read once per code harmonised (callers only read it).
    """
    table = read_table("hs_concordance.csv")
    primary = table.loc[table["primary"] == "true"]
    if primary.duplicated(["from_revision", "from_code"]).any():
        raise ValueError("hs_concordance.csv: a code has more than one primary successor")
    return {
        str(revision): dict(
            zip(rows["from_code"], zip(rows["to_code"], rows["relation"], strict=True), strict=True)
        )
        for revision, rows in primary.groupby("from_revision")
    }


def _years(periods: Any, length: int) -> np.ndarray:
    if isinstance(periods, pd.Period):
        return np.full(length, periods.year)
    if isinstance(periods, pd.Series):
        periods = periods.array
    index = pd.Index(periods)
    if isinstance(index, pd.PeriodIndex | pd.DatetimeIndex):
        years = index.year
    elif pd.api.types.is_integer_dtype(index.dtype):
        years = index  # already years
    else:
        raise TypeError(
            "periods must be pandas Periods (monthly or annual), datetimes or integer years, "
            f"not {index.dtype}"
        )
    years = np.asarray(years)
    if len(years) != length:
        raise ValueError(f"codes and periods differ in length ({length} and {len(years)})")
    return years


def _revision_index(years: np.ndarray) -> np.ndarray:
    # 0 = HS2022, 1 = HS2017, 2 = HS2012, the positions in _REVISION_YEARS.
    out = np.full(len(years), len(_REVISION_YEARS) - 1, dtype=np.int8)
    for position, (first_year, _) in reversed(list(enumerate(_REVISION_YEARS))):
        out[years >= first_year] = position
    return out


@lru_cache(maxsize=1 << 17)
def _harmonize_one(code: object, revision: str) -> tuple[object, str | None, bool]:
    # Cached: the partitions of a panel read harmonise the same few thousand codes each.
    if not isinstance(code, str):
        return None, None, False
    steps = _steps()
    stem = code[:6]
    current, relation = stem, "unchanged"
    for step in _STEPS[revision]:
        to_code, step_relation = steps.get(step, {}).get(current, (current, "1:1"))
        if to_code == current and step_relation == "1:1":
            continue  # unchanged in this step
        current = to_code
        relation = max(relation, step_relation, key=_RANK.__getitem__)
    if relation == "unchanged":
        return code, relation, False
    # A national extension (CN8, HTS10) of a changed HS6 code cannot be re-filed
    # reliably, so the code falls back to its 6-digit HS2022 successor.
    return current, relation, len(code) > 6


def harmonize_hs(
    codes: Any, periods: Any, *, return_relation: bool = False
) -> pd.Series | pd.DataFrame:
    """Re-file HS codes under the HS2022 code their series continues as.

    Parameters
    ----------
    codes : array-like or Series of str
        HS codes as text (6 digits, or national extensions such as CN8 and HTS10, whose
        first six digits are the HS6 code). Codes shorter than 6 digits are not changed.
    periods : Series, PeriodIndex, PeriodArray, pandas.Period, datetimes or integer years
        The period of each code (monthly or annual). Codes of 2022 onward are read as
        HS2022, 2017-2021 as HS2017 and earlier years as HS2012 (the table has no HS2007
        changes, so codes before 2012 are read as HS2012).
    return_relation : bool, default False
        Also return how each code was mapped.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        The harmonised codes (same length, and index if ``codes`` is a Series). Codes not
        changed between their revision and HS2022 are returned as given, national digits
        included. A changed code is returned as its 6-digit HS2022 successor: several
        codes can then share one code, and callers must sum them. With
        ``return_relation=True``, a DataFrame with columns ``hs``, ``relation`` (one of
        :data:`RELATIONS`; the least exact step of the chain), ``approximate`` (True where
        a split code was filed under one successor, ``1:n`` or ``n:n``: its history also
        contains goods now filed elsewhere) and ``truncated`` (True where national digits
        were dropped).

    Notes
    -----
    When a code was split, it is filed under the successor marked ``primary`` in
    :func:`hs_concordance`: the successor on the CHP list where there is one, otherwise
    the one expected to carry most of the trade. For 852580, 854140 and 854150 that is
    852589, 854149 and 854159. Work is done once per distinct (code, revision) pair.

    Examples
    --------
    >>> periods = pd.PeriodIndex(["2019-05", "2023-05", "2019-05", "2019-05"], freq="M")
    >>> harmonize_hs(["854890", "854800", "85414090", "85423190"], periods).tolist()
    ['854800', '854800', '854149', '85423190']
    >>> annual = pd.PeriodIndex(["2020"], freq="Y")
    >>> harmonize_hs(["854150"], annual, return_relation=True).to_dict("records")
    [{'hs': '854159', 'relation': '1:n', 'approximate': True, 'truncated': False}]
    """
    if isinstance(codes, str) or np.ndim(codes) == 0:
        codes = [codes]
    index = codes.index if isinstance(codes, pd.Series) else None
    name = codes.name if isinstance(codes, pd.Series) else "hs"
    code_ids, unique_codes = pd.factorize(pd.Series(codes, dtype=object), use_na_sentinel=True)
    revision_ids = _revision_index(_years(periods, len(code_ids)))

    # One key per (code, revision) pair; the missing-code sentinel -1 gets its own keys.
    keys = (code_ids.astype(np.int64) + 1) * len(_REVISION_YEARS) + revision_ids
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    # Each pair's code (None for the sentinel) and revision name, as Python objects.
    pair_codes = np.append(np.asarray(unique_codes, dtype=object), None)
    pair_codes = pair_codes[unique_keys // len(_REVISION_YEARS) - 1].tolist()
    names = np.array([name for _, name in _REVISION_YEARS], dtype=object)
    pair_revisions = names[unique_keys % len(_REVISION_YEARS)].tolist()
    results = list(map(_harmonize_one, pair_codes, pair_revisions))
    hs = np.empty(len(results), dtype=object)
    hs[:] = [result[0] for result in results]
    harmonized = pd.Series(hs[inverse], index=index, name=name)
    if not return_relation:
        return harmonized
    relation = np.empty(len(results), dtype=object)
    relation[:] = [result[1] for result in results]
    approximate = np.array([result[1] in _APPROXIMATE for result in results], dtype=bool)
    truncated = np.array([result[2] for result in results], dtype=bool)
    return pd.DataFrame(
        {
            "hs": hs[inverse],
            "relation": relation[inverse],
            "approximate": approximate[inverse],
            "truncated": truncated[inverse],
        },
        index=harmonized.index,
    )
