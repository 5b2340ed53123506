"""Where a forecaster's row-wise passes read their series: chunks of one matrix, or
partitions a batch engine reads from disk (:class:`anomaly.batch.train_rows.PartitionRows`).

The default forecaster's fit (:mod:`anomaly.forecast.pooled`) is a few passes in which
each series' result depends only on its own row and on small pooled inputs, between
which the pooled tables are computed from what the pass returned. A :class:`SeriesRows`
runs one such pass over its blocks of rows and puts the per-series results back in
series order, so the fit does not need to know where the rows are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any, Protocol

import numpy as np

#: Rows of a panel in the fixed-seed sample that calibrates the forecaster.
CALIBRATION_ROWS = 20_000


class SeriesRows(Protocol):
    """The training matrix's rows (absent months as zeros), in blocks of series.

    Attributes
    ----------
    n_series : int
        Number of series (rows).
    sample : numpy.ndarray
        The rows of :func:`calibration_rows` ``(n_series)``, in order.
    """

    n_series: int

    @property
    def sample(self) -> np.ndarray: ...

    def map(self, work: Callable, per_series: Sequence[np.ndarray | None], *shared: Any) -> list:
        """``work(block, *rows of per_series, *shared)`` on every block of rows (a
        ``None`` in ``per_series`` is passed as is), results in block order."""

    def gather(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        """Per-series arrays of the blocks (in block order) as one, in series order."""


def calibration_rows(n_series: int, limit: int = CALIBRATION_ROWS) -> np.ndarray:
    """Series used to calibrate: all, or a fixed-seed sample of ``limit`` for big panels.

    Examples
    --------
    >>> calibration_rows(3).tolist()
    [0, 1, 2]
    >>> len(calibration_rows(50_000))
    20000
    """
    if n_series <= limit:
        return np.arange(n_series)
    return np.sort(np.random.default_rng(0).choice(n_series, size=limit, replace=False))


class MatrixRows:
    """Rows of one matrix in memory, in chunks of ``chunk_size`` series run on up to
    ``n_threads`` threads.

    numpy releases the GIL in its array loops, so threads use every core without
    copying the matrix to other processes; each chunk is computed alone, so the result
    does not depend on the number of threads.

    Examples
    --------
    >>> rows = MatrixRows(np.arange(6.0).reshape(3, 2), chunk_size=2, n_threads=1)
    >>> rows.gather(rows.map(lambda block, scale: block.sum(axis=1) * scale, [], 10))
    array([10., 50., 90.])
    """

    def __init__(self, values: np.ndarray, chunk_size: int, n_threads: int | None = None) -> None:
        self.values = values
        self.n_series = len(values)
        self.chunk_size = chunk_size
        self.n_threads = n_threads

    @cached_property
    def sample(self) -> np.ndarray:
        return self.values[calibration_rows(self.n_series)]

    def map(self, work: Callable, per_series: Sequence[np.ndarray | None], *shared: Any) -> list:
        chunks = [
            slice(lo, lo + self.chunk_size) for lo in range(0, self.n_series, self.chunk_size)
        ]

        def run(chunk: slice):
            rows = [None if array is None else array[chunk] for array in per_series]
            return work(self.values[chunk], *rows, *shared)

        threads = self.n_threads if self.n_threads is not None else min(4, os.cpu_count() or 1)
        if threads <= 1 or len(chunks) <= 1:
            return [run(chunk) for chunk in chunks]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(run, chunks))

    def gather(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts)
