"""The training matrix's rows as partitions on disk, read by an engine's workers.

A partitioned training read (:func:`anomaly.batch.panel_reader.read_panel` with
``stacked=False``) leaves each partition's matrix in the work directory
(``panels/part-NNNNN/values.npy``). :class:`PartitionRows` is a
:class:`~anomaly.forecast.rows.SeriesRows` over them: every row-wise pass of a fit runs
on the workers, one task per partition, each reading only its partition's training
rows and months; the driver receives per-series arrays and puts them in the training
panel's row order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from anomaly.batch.engines import DaskEngine, LocalEngine, map_in_order
from anomaly.forecast.rows import calibration_rows


@dataclass(frozen=True)
class PartitionSlice:
    """The training rows and months of one partition's matrix (plain data: sent to
    workers as is).

    Attributes
    ----------
    values : str
        The partition's ``values.npy`` (series × the months of the whole input).
    rows : numpy.ndarray
        Rows of that matrix in the training panel, ascending.
    columns : tuple of int
        The training window's first column and the column after its last.
    """

    values: str
    rows: np.ndarray
    columns: tuple[int, int]

    def read(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The training rows' values (or those at positions ``rows`` among them) over
        the window, ``NaN`` as is."""
        matrix = np.load(self.values, mmap_mode="r")
        picked = self.rows if rows is None else self.rows[rows]
        lo, hi = self.columns
        return np.asarray(matrix[picked, lo:hi], dtype=np.float64)

    def read_filled(self, rows: np.ndarray | None = None) -> np.ndarray:
        """:meth:`read` with absent months as zeros (as a forecaster reads them)."""
        return np.nan_to_num(self.read(rows), copy=False, nan=0.0)


class PartitionRows:
    """A :class:`~anomaly.forecast.rows.SeriesRows` whose blocks are partitions on disk.

    Parameters
    ----------
    runner : LocalEngine or DaskEngine
        Runs one task per partition.
    parts : sequence of PartitionSlice
        The partitions holding training series.
    positions : sequence of numpy.ndarray
        For each partition, the training panel's row of each of its training rows
        (together, every row once).
    """

    def __init__(
        self,
        runner: LocalEngine | DaskEngine,
        parts: Sequence[PartitionSlice],
        positions: Sequence[np.ndarray],
    ) -> None:
        self.runner = runner
        self.parts = list(parts)
        self.positions = list(positions)
        self.n_series = int(sum(len(p) for p in self.positions))

    @cached_property
    def sample(self) -> np.ndarray:
        wanted = calibration_rows(self.n_series)
        chosen = [np.flatnonzero(np.isin(p, wanted)) for p in self.positions]
        items = [(part, rows) for part, rows in zip(self.parts, chosen, strict=True) if len(rows)]
        blocks = map_in_order(self.runner, _read_rows, items, "training: calibration sample")
        found = np.concatenate(
            [p[rows] for p, rows in zip(self.positions, chosen, strict=True) if len(rows)]
        )
        sample = np.vstack(blocks)
        return sample[np.argsort(found, kind="stable")]

    def map(self, work: Callable, per_series: Sequence[np.ndarray | None], *shared: Any) -> list:
        items = [
            (part, [None if array is None else array[rows] for array in per_series])
            for part, rows in zip(self.parts, self.positions, strict=True)
        ]
        return map_in_order(
            self.runner, _run_pass, items, f"training pass {work.__name__.strip('_')}", work, shared
        )

    def gather(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        first = parts[0]
        out = np.empty((self.n_series, *first.shape[1:]), dtype=first.dtype)
        for rows, part in zip(self.positions, parts, strict=True):
            out[rows] = part
        return out


def _read_rows(item: tuple[PartitionSlice, np.ndarray]) -> np.ndarray:
    part, rows = item
    return part.read_filled(rows)


def _run_pass(work: Callable, shared: tuple, item: tuple[PartitionSlice, list]) -> Any:
    part, per_series = item
    return work(part.read_filled(), *per_series, *shared)
