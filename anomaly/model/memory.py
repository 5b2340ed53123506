"""Memory that training will need, estimated before it is spent.

Training in memory holds the whole panel and the forecaster's and detectors' working
arrays at once; training over partitions (``anomaly train`` with a batch option on
canonical Parquet, :func:`anomaly.batch.fit_partitioned`) holds per-series arrays in
the process and one partition's matrix per worker. On data too large for the machine
a fit would run for minutes and then be killed by the kernel;
:func:`check_training_memory` refuses it up front instead, from the data's size and
what the process already holds. Before that, :func:`check_reading_memory` refuses an
input whose reading would not fit, from the rows Parquet files declare: read whole
(CSV and other formats), or in partitions (canonical Parquet, which never holds the
input table at once).

The coefficients are measured, not derived: ``experiments/bench_train_memory.py``
trains canonical panels of 10^5 to 10^6 series × 120 months and records each step's
own peak (``experiments/results/bench_train_memory.md``, with the estimate's error at
every size).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from anomaly.errors import MemoryBudgetError
from anomaly.progress import available_memory_gib, resident_memory_gib

logger = logging.getLogger(__name__)

#: Bytes that reading a table into memory and building its panel hold at their peak,
#: per row of the input (CSV and other formats read whole by ``read_flows``; measured:
#: 105-120 bytes per row above a fixed 0.25-0.4 GiB, for dictionary-encoded and
#: plain-string Parquet of 1.2M to 24M rows; rounded up).
READ_BYTES_PER_ROW = 128
#: What the process holds before reading (the package and its libraries imported),
#: with a margin for the allocators' slack on small inputs.
READ_BASE_GIB = 0.4
#: Canonical Parquet is read in partitions (``anomaly.batch.panel_reader``): the peak
#: holds one partition's rows being checked and pivoted, PARTITION_BYTES_PER_ROW per
#: row of the largest partition (taken as PARTITION_SPREAD times the mean; measured:
#: about 130 bytes per row, from the peaks with partitions of 3M and 6M rows) ...
PARTITION_BYTES_PER_ROW = 160
PARTITION_SPREAD = 1.25
#: ... beside the panel built so far: its matrix and keys, PANEL_BYTES_PER_ROW per
#: input row where every series has a row in most months (measured: 13-15 bytes per
#: row held after reading 48M and 120M rows of such series). A sparser panel holds more
#: cells per row; the fit's check, made on the panel's size, then stops what follows.
PANEL_BYTES_PER_ROW = 16
#: Bytes the fit (placebo forecast and scoring, detector calibration, the final
#: forecaster fit) adds at its peak to what the process held when it started, per
#: series and month of the training window, above FIT_MARGIN_GIB (measured since the
#: fit reads its window as views of the panel: 0.67 GiB added for 8.4M cells, 1.13 for
#: 33.6M, 2.72-2.95 for 84M: about 0.6 GiB + 26-28 bytes per cell on series traded
#: every month; rounded up, with room for data that differ from the benchmark's).
FIT_BYTES_PER_CELL = 40
#: Fixed part of what the fit adds (the isolation forest, reference tables, allocator
#: slack).
FIT_MARGIN_GIB = 0.8
#: A fit over partitions holds in the ``anomaly train`` process, instead of the matrix,
#: per-series arrays and tables: keys, the forecaster's state, the placebo window's
#: summary (measured with 2 workers, 84 training months: the fit raised the process's
#: peak by 0.08 GiB at 10^4 series, 0.28 at 10^5, 0.68 at 4·10^5, about 0.15 GiB +
#: 1.4 KB per series; rounded up, with FIT_MARGIN_GIB as the fixed part) ...
PARTITIONED_BYTES_PER_SERIES = 2048
#: ... and each worker process one partition's working arrays: FIT_BYTES_PER_CELL per
#: cell of the largest partition (PARTITION_SPREAD times the mean), beside
#: READ_BASE_GIB (not measured apart: the in-memory fit's coefficient, per partition).
#: What the message proposes instead of training in memory.
INSTEAD = (
    "fewer series at once: on canonical Parquet, `anomaly train --jobs N` (or any batch "
    "option: --partitions, --work-dir) fits over partitions of series, holding one "
    "partition's matrix per worker; or train on a part of the data (some reporters or "
    "HS chapters per model), on coarser codes (--hs-level 4 or 2), or on a machine "
    "with more memory; raise {option} only if this machine has the memory to spare"
)
#: What the message proposes instead of training over partitions.
INSTEAD_PARTITIONED = (
    "smaller partitions (a higher --partitions), fewer worker processes (--jobs), a "
    "part of the data per model, coarser codes (--hs-level 4 or 2), or a machine with "
    "more memory; raise {option} only if this machine has the memory to spare"
)


@dataclass(frozen=True)
class MemoryEstimate:
    """What training a panel in memory is expected to need, beside what is available.

    Attributes
    ----------
    n_series, n_months : int
        The panel's series and the training window's months.
    partitions : int or None
        The partitions the fit runs over (None: in memory).
    resident_gib : float
        What the process holds now (the panel included), GiB.
    fit_gib : float
        What the fit adds at its peak, GiB.
    budget_gib : float or None
        The most the process may hold (None: unknown, nothing is refused).
    """

    n_series: int
    n_months: int
    partitions: int | None
    resident_gib: float
    fit_gib: float
    budget_gib: float | None

    @property
    def peak_gib(self) -> float:
        """The estimated peak of the process during the fit, GiB."""
        return self.resident_gib + self.fit_gib

    @property
    def fits(self) -> bool:
        """Whether the estimated peak stays within the budget (or no budget is known)."""
        return self.budget_gib is None or self.peak_gib <= self.budget_gib


def fit_memory_gib(
    n_series: int, n_months: int, *, partitions: int | None = None, workers: int = 0
) -> float:
    """What fitting ``n_series`` × ``n_months`` adds at its peak, in GiB: in memory, to
    the process (see :data:`FIT_BYTES_PER_CELL`); or over ``partitions`` partitions, to
    the process and, summed, its ``workers`` worker processes (0: the partitions are
    worked on in the process; see :data:`PARTITIONED_BYTES_PER_SERIES`).

    Examples
    --------
    >>> round(fit_memory_gib(1_000_000, 84), 1)
    3.9
    >>> round(fit_memory_gib(1_000_000, 84, partitions=40, workers=2), 1)
    3.7
    >>> round(fit_memory_gib(1_000_000, 84, partitions=120, workers=2), 1)
    3.6
    """
    if partitions is None:
        return n_series * n_months * FIT_BYTES_PER_CELL / 2**30 + FIT_MARGIN_GIB
    held = n_series * PARTITIONED_BYTES_PER_SERIES / 2**30 + FIT_MARGIN_GIB
    largest = PARTITION_SPREAD * n_series / partitions * n_months * FIT_BYTES_PER_CELL
    working = largest / 2**30 + (READ_BASE_GIB if workers else 0.0)
    return held + max(workers, 1) * working


def default_budget_gib() -> float | None:
    """What this process could hold at most now: what it holds plus what the system
    has available (None where the system does not say)."""
    available = available_memory_gib()
    resident = resident_memory_gib()
    if available is None or resident is None:
        return None
    return resident + available


def estimate_training_memory(
    n_series: int,
    n_months: int,
    budget_gib: float | None = None,
    *,
    partitions: int | None = None,
    workers: int = 0,
) -> MemoryEstimate:
    """Estimate the peak memory of training ``n_series`` × ``n_months`` in memory, in
    this process, now; or over ``partitions`` partitions, in this process and its
    ``workers`` worker processes together.

    Parameters
    ----------
    n_series, n_months : int
        Series of the panel and months of the training window.
    budget_gib : float, optional
        The most the process may hold, GiB; default: what it holds plus what the system
        has available (:func:`default_budget_gib`).
    partitions : int, optional
        The partitions of a fit over partitions (None: in memory).
    workers : int
        Worker processes of this machine that fit them (0: this process).

    Returns
    -------
    MemoryEstimate

    Examples
    --------
    >>> estimate = estimate_training_memory(10_000, 84, budget_gib=64.0)
    >>> estimate.fits, round(estimate.fit_gib, 2)
    (True, 0.83)
    """
    resident = resident_memory_gib() or 0.0
    budget = budget_gib if budget_gib is not None else default_budget_gib()
    fit = fit_memory_gib(n_series, n_months, partitions=partitions, workers=workers)
    return MemoryEstimate(n_series, n_months, partitions, resident, fit, budget)


def check_training_memory(
    n_series: int,
    n_months: int,
    budget_gib: float | None = None,
    *,
    partitions: int | None = None,
    workers: int = 0,
    option: str = "--memory-budget",
) -> MemoryEstimate:
    """Refuse training whose estimated peak exceeds the budget (in memory, or over
    ``partitions`` partitions on ``workers`` worker processes).

    The estimate is logged at INFO level either way.

    Parameters
    ----------
    n_series, n_months : int
        Series of the panel and months of the training window.
    budget_gib : float, optional
        The most the process may hold, GiB (default: what it holds plus what the system
        has available).
    partitions : int, optional
        The partitions of a fit over partitions (None: in memory).
    workers : int
        Worker processes of this machine that fit them (0: this process); the budget
        is then that of all processes together.
    option : str
        How the user sets the budget (named in the message).

    Returns
    -------
    MemoryEstimate
        The estimate (within the budget).

    Raises
    ------
    MemoryBudgetError
        The estimated peak exceeds the budget; the message says by how much and what
        to do instead.

    Examples
    --------
    >>> check_training_memory(1_000_000, 84, budget_gib=2.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anomaly.errors.MemoryBudgetError: training 1,000,000 series × 84 months in memory ...
    """
    estimate = estimate_training_memory(
        n_series, n_months, budget_gib, partitions=partitions, workers=workers
    )
    budget = "unknown" if estimate.budget_gib is None else f"{estimate.budget_gib:.1f} GiB"
    how = "in memory" if partitions is None else f"over {partitions} partitions"
    if partitions is not None and workers:
        how += f" on {workers} worker processes"
    logger.info(
        "memory: training %d series × %d months %s needs about %.1f GiB at its "
        "peak (%.1f GiB held now + %.1f GiB for the fit); budget %s",
        n_series,
        n_months,
        how,
        estimate.peak_gib,
        estimate.resident_gib,
        estimate.fit_gib,
        budget,
    )
    if not estimate.fits:
        instead = INSTEAD if partitions is None else INSTEAD_PARTITIONED
        raise MemoryBudgetError(
            f"training {n_series:,} series × {n_months} months {how} would need about "
            f"{estimate.peak_gib:.1f} GiB at its peak ({estimate.resident_gib:.1f} GiB held "
            f"now + {estimate.fit_gib:.1f} GiB for the fit), more than the "
            f"{estimate.budget_gib:.1f} GiB {'this process' if partitions is None else 'they'} "
            f"may use ({option})",
            expected=instead.format(option=option),
        )
    return estimate


def reading_memory_gib(
    n_rows: int, *, partitions: int | None = None, workers: int = 0, stacked: bool = True
) -> float:
    """The peak of reading ``n_rows`` canonical rows and building their panel, in GiB:
    in memory (see :data:`READ_BYTES_PER_ROW`), or in ``partitions`` partitions (see
    :data:`PARTITION_BYTES_PER_ROW` and :data:`PANEL_BYTES_PER_ROW`) pivoted in this
    process or, summed over the processes, by ``workers`` worker processes (each holds
    :data:`READ_BASE_GIB` and a partition; this process, the panel). With ``stacked``
    false the partitions stay on disk for a fit over them
    (:func:`anomaly.batch.fit_partitioned`): no panel is built.

    Examples
    --------
    >>> round(reading_memory_gib(120_000_000), 1)
    14.7
    >>> round(reading_memory_gib(120_000_000, partitions=40), 1)
    2.7
    >>> round(reading_memory_gib(120_000_000, partitions=40, workers=2), 1)
    4.1
    >>> round(reading_memory_gib(120_000_000, partitions=40, workers=2, stacked=False), 1)
    2.3
    """
    if partitions is None:
        return READ_BASE_GIB + n_rows * READ_BYTES_PER_ROW / 2**30
    largest = PARTITION_SPREAD * n_rows / partitions
    pivoting = max(workers, 1) * largest * PARTITION_BYTES_PER_ROW
    panel = n_rows * PANEL_BYTES_PER_ROW if stacked else 0
    return (1 + workers) * READ_BASE_GIB + (pivoting + panel) / 2**30


def check_reading_memory(
    n_rows: int,
    budget_gib: float | None = None,
    *,
    partitions: int | None = None,
    workers: int = 0,
    stacked: bool = True,
    option: str = "--memory-budget",
) -> float:
    """Refuse to read ``n_rows`` rows for in-memory training when reading them and
    building their panel would exceed the budget (before any row is read).

    Parameters
    ----------
    n_rows : int
        Rows of the input (Parquet files say it in their footer).
    budget_gib : float, optional
        The most the process may hold, GiB (default: what it holds plus what the system
        has available).
    partitions : int, optional
        The partitions canonical Parquet is read in; None: the input is read whole.
    workers : int
        Worker processes of this machine that pivot the partitions (0: this process);
        the budget is then that of all processes together.
    stacked : bool
        Whether the partitions are stacked into one panel (false: left on disk for a
        fit over partitions).
    option : str
        How the user sets the budget (named in the message).

    Returns
    -------
    float
        The estimated peak, GiB (logged at INFO level).

    Raises
    ------
    MemoryBudgetError
        The estimate exceeds the budget.

    Examples
    --------
    >>> check_reading_memory(120_000_000, budget_gib=8.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anomaly.errors.MemoryBudgetError: reading 120,000,000 rows and building their panel ...
    """
    peak = reading_memory_gib(n_rows, partitions=partitions, workers=workers, stacked=stacked)
    budget = budget_gib if budget_gib is not None else default_budget_gib()
    how = (
        "in memory"
        if partitions is None
        else f"in {partitions} partition{'' if partitions == 1 else 's'}"
        + (f" on {workers} worker processes" if workers else "")
    )
    logger.info(
        "memory: reading %d rows and building their panel %s needs about %.1f GiB at its "
        "peak; budget %s",
        n_rows,
        how,
        peak,
        "unknown" if budget is None else f"{budget:.1f} GiB",
    )
    if budget is not None and peak > budget:
        raise MemoryBudgetError(
            f"reading {n_rows:,} rows and building their panel {how} would need about "
            f"{peak:.1f} GiB at its peak, more than the {budget:.1f} GiB this process may "
            f"use ({option})",
            expected=INSTEAD.format(option=option),
        )
    return peak
