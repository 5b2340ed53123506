"""Which partition a series belongs to: a stable hash of its unordered country pair.

An export and its mirror import (A → B and B ← A, same goods) must meet in one
partition, and so must every series of a route (reporter, partner, flow): the scoring
context sums each route's general demand, and a route summed in one partition is
summed in the same order as in memory, so the merged context is bit-identical to an
in-memory run. Hashing the pair (not the pair and HS code) gives both. A pair holds at
most four flows of each HS code, so partitions stay small (thousands of pairs share a
few dozen partitions). The hash is of the country codes themselves (not Python's
salted ``hash``), so every process and machine agrees.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np
import pandas as pd

#: Input rows per partition when their number is not given. Each partition pivots its
#: rows once per pass-1 task, with a fixed cost per distinct HS code (harmonisation):
#: fewer, larger partitions cost less, as long as two fit in memory at once.
ROWS_PER_PARTITION = 10_000_000


def pair_partition(a: str, b: str, n_partitions: int) -> int:
    """Partition of the unordered country pair ``{a, b}``.

    Examples
    --------
    >>> pair_partition("DEU", "KGZ", 16) == pair_partition("KGZ", "DEU", 16)
    True
    """
    low, high = sorted((str(a), str(b)))
    return _ordered_pair_partition(low, high, n_partitions)


@functools.lru_cache(maxsize=1 << 20)
def _ordered_pair_partition(low: str, high: str, n_partitions: int) -> int:
    # Cached: every scan unit holds most of the same few ten thousand pairs again.
    digest = hashlib.blake2b(f"{low}|{high}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n_partitions


def pair_partitions(
    reporter: pd.Series | np.ndarray, partner: pd.Series | np.ndarray, n_partitions: int
) -> np.ndarray:
    """Partition of each row's unordered (reporter, partner) pair.

    Hashes each pair of distinct countries once per process (a table of the pairs of a
    set of countries is kept), so a column of millions of rows costs one lookup per row;
    categorical columns are not factorized again.

    Examples
    --------
    >>> parts = pair_partitions(["DEU", "KGZ", "DEU"], ["KGZ", "DEU", "FRA"], 4)
    >>> bool(parts[0] == parts[1])
    True
    """
    reporter_codes, reporters = _codes(reporter)
    partner_codes, partners = _codes(partner)
    return _pair_table(reporters, partners, n_partitions)[reporter_codes, partner_codes]


def _codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes of the rows into their distinct countries, and those countries as text."""
    values = pd.Series(values, copy=False)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), tuple(str(code) for code in values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, tuple(str(code) for code in uniques)


@functools.lru_cache(maxsize=16)
def _pair_table(firsts: tuple[str, ...], seconds: tuple[str, ...], n_partitions: int) -> np.ndarray:
    """``table[i, j]``: the partition of ``{firsts[i], seconds[j]}``, taken from the
    cached table of the same countries in sorted order (batches list them alike, and
    the batches of one file in the same order: the table is kept for them)."""
    sorted_firsts, first_rank = np.unique(np.array(firsts, dtype=object), return_inverse=True)
    sorted_seconds, second_rank = np.unique(np.array(seconds, dtype=object), return_inverse=True)
    table = _sorted_pair_table(tuple(sorted_firsts), tuple(sorted_seconds), n_partitions)
    pairs = table[np.ix_(first_rank.ravel(), second_rank.ravel())]
    pairs.flags.writeable = False  # shared by the calls that find it cached
    return pairs


@functools.lru_cache(maxsize=16)
def _sorted_pair_table(firsts: tuple[str, ...], seconds: tuple[str, ...], n: int) -> np.ndarray:
    """``table[i, j]``: the partition of ``{firsts[i], seconds[j]}`` among ``n``."""
    partitions = [pair_partition(first, second, n) for first in firsts for second in seconds]
    return np.array(partitions, dtype=np.int32).reshape(len(firsts), len(seconds))


def default_partitions(n_rows: int, workers: int) -> int:
    """Partitions for ``n_rows`` input rows on ``workers`` workers.

    Enough to keep each near :data:`ROWS_PER_PARTITION` input rows, at least two per
    worker (so a slow partition does not leave a worker idle), and a multiple of the
    workers (so the last round keeps them all busy).

    Examples
    --------
    >>> default_partitions(1_000, 2), default_partitions(165_000_000, 2)
    (4, 18)
    """
    wanted = max(2 * workers, math.ceil(n_rows / ROWS_PER_PARTITION))
    return math.ceil(wanted / workers) * workers
