"""UN Comtrade breakdowns: keep a published total, sum the breakdowns where there is none.

A Comtrade record may break its flow down by mode of transport (``motCode``), customs
procedure (``customsCode``), second partner (``partner2Code``/``partner2ISO``) or mode
of supply (``mosCode``); each dimension has a total code (``0``, ``C00``, ``0``/``W00``)
and a blank cell counts as the total. A record sits at a *coordinate* in these
dimensions: the total, or one value, in each. The canonical table wants one row per
key (period, reporter, partner, flow, hs), the total over every dimension.

The rule, for the rows of one key:

1. **A published total wins.** A row is left out when the file holds a coarser row of
   the same key that contains it: the same values in the dimensions the coarser row
   breaks down, the total in the others. So the total row (total in every dimension)
   leaves out all its breakdowns, a row "by road, all customs procedures" leaves out
   the rows "by road, procedure C01/C02/...", and a total is never summed with its own
   breakdowns.
2. **The breakdowns partition the total.** The rows that are left are disjoint when
   each pair differs in a dimension both break down (road vs rail; KAZ by road vs CHN
   by air); they are then summed into the key's total. This reads a file that holds
   only breakdown rows (a download filtered to the modes of transport), at any
   combination of dimensions, and a file that mixes totals and breakdowns. A key with
   one breakdown row takes that row as its total: what the file publishes is taken to
   be all there is, as everywhere in the package.
3. **Two overlapping breakdowns of one key are not both summed.** Rows that break the
   same trade down in different dimensions (rows by mode of transport beside rows by
   customs procedure, with no total) would count it twice. The breakdown with fewer
   dimensions is summed, ties in the order of :data:`DIMENSIONS` (mode of transport,
   customs procedure, second partner, mode of supply); the rows that overlap it are
   left out and reported.

Numbers are summed as published: a value that is missing in one summed row makes the
sum missing (quantities, weights, FOB and CIF values; the trade value itself is
required per row, as for any record), and quantities in different units make the
summed quantity missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.errors import MAX_LISTED
from anomaly.io.keys import combine_codes
from anomaly.io.origin import LINE
from anomaly.io.text import distinct_text

__all__ = [
    "DIMENSIONS",
    "BreakdownPlan",
    "Coordinates",
    "Dimension",
    "coordinates",
    "plan_breakdowns",
    "sum_rows",
    "summary",
]


@dataclass(frozen=True)
class Dimension:
    """One breakdown dimension of Comtrade records.

    Parameters
    ----------
    name : str
        What it breaks the flow down by, in the user's words.
    totals : dict of str to tuple of str
        Each column that spells the dimension -> its codes of the total (compared
        case-insensitively; a blank cell is the total too).
    """

    name: str
    totals: dict[str, tuple[str, ...]]


#: The breakdown dimensions, in the order that decides between overlapping breakdowns
#: of equal detail (rule 3 of the module).
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("mode of transport", {"motCode": ("0",), "mot_code": ("0",)}),
    Dimension("customs procedure", {"customsCode": ("C00",)}),
    Dimension("second partner", {"partner2Code": ("0",), "partner2ISO": ("W00", "WLD")}),
    Dimension("mode of supply", {"mosCode": ("0",)}),
)


@dataclass(frozen=True)
class Coordinates:
    """Where each row of a file sits in the breakdown dimensions the file has.

    Attributes
    ----------
    dimensions : tuple of Dimension
        The dimensions with at least one column in the file.
    columns : tuple of tuple of str
        For each of them, its columns found in the file.
    codes : ndarray of int64, shape (rows, dimensions)
        0 where the row is at the dimension's total, else a number per distinct value.
    """

    dimensions: tuple[Dimension, ...]
    columns: tuple[tuple[str, ...], ...]
    codes: np.ndarray

    @property
    def level(self) -> np.ndarray:
        """Per row, a bit mask of the dimensions it breaks down (bit i: dimension i)."""
        bits = np.left_shift(1, np.arange(len(self.dimensions), dtype=np.int64))
        return (self.codes != 0).astype(np.int64) @ bits

    @property
    def below(self) -> np.ndarray:
        """Rows that are a breakdown in at least one dimension."""
        return (self.codes != 0).any(axis=1)

    def take(self, mask: np.ndarray) -> Coordinates:
        """The coordinates of the rows selected by ``mask``."""
        return Coordinates(self.dimensions, self.columns, self.codes[np.asarray(mask)])

    def names(self, level: int) -> list[str]:
        """The names of the dimensions in a level's bit mask."""
        return [item.name for i, item in enumerate(self.dimensions) if level >> i & 1]

    def level_columns(self, level: int) -> list[str]:
        """The file's columns of the dimensions in a level's bit mask."""
        return [c for i, columns in enumerate(self.columns) if level >> i & 1 for c in columns]

    def kinds(self, mask: np.ndarray) -> list[str]:
        """The dimensions broken down by at least one of the rows selected by ``mask``."""
        broken = (self.codes[np.asarray(mask)] != 0).any(axis=0)
        return [item.name for item, found in zip(self.dimensions, broken, strict=True) if found]


def coordinates(frame: pd.DataFrame) -> Coordinates:
    """Read the breakdown coordinates of the rows of a raw Comtrade table.

    Parameters
    ----------
    frame : DataFrame
        The file's columns as text (or numbers, from Parquet).

    Returns
    -------
    Coordinates
        One column of codes per dimension found; a dimension spelled by two columns
        (``partner2Code`` and ``partner2ISO``) is at its total where both are.
    """
    dimensions, columns, codes = [], [], []
    for dimension in DIMENSIONS:
        found = [column for column in dimension.totals if column in frame]
        if not found:
            continue
        parts = []
        for column in found:
            distinct, text = distinct_text(frame[column])
            text = text.str.upper()
            at_total = (text.isin(dimension.totals[column]) | (text == "")).to_numpy()
            parts.append(np.where(at_total, 0, np.arange(1, len(text) + 1))[distinct])
        at_total = np.all([part == 0 for part in parts], axis=0)
        values = pd.factorize(combine_codes(parts))[0].astype(np.int64)
        dimensions.append(dimension)
        columns.append(tuple(found))
        codes.append(np.where(at_total, 0, values + 1))
    matrix = np.column_stack(codes) if codes else np.zeros((len(frame), 0), dtype=np.int64)
    return Coordinates(tuple(dimensions), tuple(columns), matrix)


@dataclass(frozen=True)
class BreakdownPlan:
    """What becomes of each row of a file's breakdowns (masks over the rows planned).

    Attributes
    ----------
    covered : ndarray of bool
        Breakdown rows contained in a coarser row of their key: left out (rule 1).
    overlapping : ndarray of bool
        Breakdown rows overlapping a breakdown summed for their key: left out (rule 3).
    summed : ndarray of bool
        Breakdown rows summed into their key's total (rule 2).
    duplicated : ndarray of bool
        Rows to be summed that repeat another one's key and coordinates: an error.
    """

    covered: np.ndarray
    overlapping: np.ndarray
    summed: np.ndarray
    duplicated: np.ndarray


def plan_breakdowns(key: np.ndarray, coords: Coordinates) -> BreakdownPlan:
    """Decide which breakdown rows are left out and which are summed, per key.

    Parameters
    ----------
    key : ndarray of int64
        One integer per distinct (period, reporter, partner, flow, hs).
    coords : Coordinates
        The rows' breakdown coordinates.

    Returns
    -------
    BreakdownPlan
        See the module's rules. Rows at the total in every dimension are in none of
        the masks: they are kept as published.
    """
    n = len(key)
    level = coords.level
    codes = coords.codes
    below = level != 0
    present = np.unique(level)

    def project(rows: np.ndarray, onto: int) -> list[np.ndarray]:
        """The key and the codes of the dimensions in ``onto`` (others at the total)."""
        zeros = np.zeros(int(rows.sum()), dtype=np.int64)
        dims = range(codes.shape[1])
        return [key[rows], *(codes[rows, i] if onto >> i & 1 else zeros for i in dims)]

    covered = np.zeros(n, dtype=bool)
    for coarse in present:
        # Rows at a strictly finer level that agree with a row at ``coarse`` on its values.
        finer = below & (level & coarse == coarse) & (level != coarse)
        if not finer.any():
            continue
        at_coarse = level == coarse
        covered[finer] |= _member(project(finer, coarse), project(at_coarse, coarse))

    left = below & ~covered
    summed = np.zeros(n, dtype=bool)
    overlapping = np.zeros(n, dtype=bool)
    chosen: list[int] = []
    for current in sorted(np.unique(level[left]).tolist(), key=_detail_order):
        rows = left & (level == current)
        clash = np.zeros(int(rows.sum()), dtype=bool)
        for other in chosen:
            # Rows of two levels overlap where they agree on the dimensions both break
            # down (with none in common, any two rows of one key overlap).
            common = current & other
            clash |= _member(project(rows, common), project(summed & (level == other), common))
        overlapping[np.flatnonzero(rows)[clash]] = True
        summed[np.flatnonzero(rows)[~clash]] = True
        if (~clash).any():
            chosen.append(current)

    duplicated = np.zeros(n, dtype=bool)
    if summed.any():
        ids = combine_codes(project(summed, (1 << codes.shape[1]) - 1))
        duplicated[summed] = pd.Series(ids).duplicated(keep=False).to_numpy()
    return BreakdownPlan(covered, overlapping, summed, duplicated)


def _detail_order(level: int) -> tuple[int, list[int]]:
    """Fewer dimensions first, then the dimensions' order."""
    bits = [i for i in range(level.bit_length()) if level >> i & 1]
    return len(bits), bits


def _member(queries: Sequence[np.ndarray], existing: Sequence[np.ndarray]) -> np.ndarray:
    """Whether each query tuple (columns of integer codes) is among the existing ones."""
    size = len(queries[0])
    ids = combine_codes(
        [np.concatenate([query, known]) for query, known in zip(queries, existing, strict=True)]
    )
    return np.isin(ids[:size], ids[size:])


def sum_rows(
    typed: pd.DataFrame,
    group: np.ndarray,
    numbers: Sequence[str],
    units: np.ndarray | None = None,
    quantity: str = "quantity",
) -> pd.DataFrame:
    """Sum rows of canonical columns into one row per group.

    Parameters
    ----------
    typed : DataFrame
        Canonical rows with the line column; the key columns are equal within a group.
    group : ndarray of int
        The group of each row.
    numbers : sequence of str
        The number columns to sum. A missing value in one row makes the group's sum
        missing: a part of the total is unknown.
    units : ndarray, optional
        The quantity unit of each row; a group of several units gets no quantity.
    quantity : str
        The quantity column that ``units`` applies to.

    Returns
    -------
    DataFrame
        One row per group, in order of first appearance; the other columns and the
        line are those of the group's first line.
    """
    if typed.empty:
        return typed.copy()
    ids, _ = pd.factorize(group)
    count = int(ids.max()) + 1
    order = np.lexsort((typed[LINE].to_numpy(), ids))
    first = order[np.flatnonzero(np.r_[True, np.diff(ids[order]) != 0])]
    out = typed.iloc[first].copy()
    for column in numbers:
        values = typed[column].to_numpy(dtype=np.float64)
        out[column] = np.bincount(ids, weights=values, minlength=count)
    if units is not None and quantity in out:
        unit_codes = pd.factorize(pd.Series(np.asarray(units, dtype=object)).astype(str))[0]
        mixed = pd.Series(unit_codes).groupby(ids).nunique().to_numpy() > 1
        out[quantity] = out[quantity].mask(mixed)
    return out


def summary(
    coords: Coordinates, key: np.ndarray, summed: np.ndarray, lines: np.ndarray, source: str
) -> list[dict[str, object]]:
    """The records of the summed breakdowns, one per combination of dimensions.

    Each record: ``source``, ``dimensions`` (names), ``columns`` (as in the file),
    ``keys`` (keys whose total includes rows of this combination), ``rows`` (rows
    summed) and the first ``lines``.
    """
    records = []
    level = coords.level
    for current in sorted(np.unique(level[summed]).tolist(), key=_detail_order):
        rows = summed & (level == current)
        records.append(
            {
                "source": source,
                "dimensions": coords.names(current),
                "columns": coords.level_columns(current),
                "keys": len(np.unique(key[rows])),
                "rows": int(rows.sum()),
                "lines": [int(line) for line in np.sort(lines[rows])[:MAX_LISTED]],
            }
        )
    return records
