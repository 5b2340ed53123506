"""The months of a simulated world and the dates its story hangs on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "COVID_PROFILE",
    "HS_REVISION",
    "REPORTING_STOP",
    "WAR_START",
    "Timeline",
    "multiplier",
]

#: Russia and Belarus publish no trade statistics from this month on.
REPORTING_STOP = pd.Period("2022-01", freq="M")
#: First month of the sanctions that followed the invasion of 24 February 2022.
WAR_START = pd.Period("2022-03", freq="M")
#: First month declared in HS2022 codes.
HS_REVISION = pd.Period("2022-01", freq="M")
#: Fall of trade (fraction of the trough) in the months of the 2020 lockdowns; scaled
#: so that April 2020, the trough, is 1.
COVID_PROFILE: dict[str, float] = {
    "2020-03": 0.35,
    "2020-04": 1.0,
    "2020-05": 0.9,
    "2020-06": 0.5,
    "2020-07": 0.2,
    "2020-08": 0.08,
}


@dataclass(frozen=True)
class Timeline:
    """Contiguous months of a simulation, with helpers to find a month's column.

    Examples
    --------
    >>> tl = Timeline.between("2021-11", "2022-02")
    >>> tl.column("2022-01"), len(tl)
    (2, 4)
    >>> tl.month_of_year.tolist()
    [10, 11, 0, 1]
    """

    periods: pd.PeriodIndex

    @classmethod
    def between(cls, start: str | pd.Period, end: str | pd.Period) -> Timeline:
        """Months from ``start`` to ``end`` inclusive; raises ``ValueError`` if empty."""
        first, last = pd.Period(start, freq="M"), pd.Period(end, freq="M")
        if first > last:
            raise ValueError(f"start {first} is after end {last}")
        return cls(pd.period_range(first, last, freq="M"))

    def __len__(self) -> int:
        return len(self.periods)

    @property
    def ordinals(self) -> np.ndarray:
        """Month ordinals (months since 1970-01) of every column."""
        return self.periods.asi8

    @property
    def month_of_year(self) -> np.ndarray:
        """Calendar month of every column, 0 for January."""
        return self.periods.month.to_numpy() - 1

    def column(self, period: str | pd.Period) -> int:
        """Column of ``period``; negative or ``len(self)`` and beyond when outside."""
        return int(pd.Period(period, freq="M").ordinal - self.periods[0].ordinal)

    def covid(self) -> np.ndarray:
        """The lockdown profile (0 outside spring and summer 2020) on every column."""
        profile = np.zeros(len(self), dtype=np.float32)
        for period, depth in COVID_PROFILE.items():
            col = self.column(period)
            if 0 <= col < len(self):
                profile[col] = depth
        return profile


def multiplier(
    timeline: Timeline, onset: np.ndarray, factor: np.ndarray, months: np.ndarray | int
) -> np.ndarray:
    """Per-row multiplicative path: 1 before ``onset``, ``factor`` after a geometric ramp.

    Parameters
    ----------
    timeline : Timeline
        The months.
    onset : numpy.ndarray of int
        First affected month of each row, as a month ordinal.
    factor : numpy.ndarray of float
        Full effect of each row.
    months : numpy.ndarray of int or int
        Length of the ramp: the effect is ``factor^(k/months)`` in the ``k``-th month
        from the onset (``k = 1 .. months``).

    Returns
    -------
    numpy.ndarray of float32, shape (len(onset), len(timeline))

    Examples
    --------
    >>> tl = Timeline.between("2022-01", "2022-05")
    >>> multiplier(tl, np.array([tl.ordinals[1]]), np.array([4.0]), 2).round(2).tolist()
    [[1.0, 2.0, 4.0, 4.0, 4.0]]
    """
    elapsed = timeline.ordinals[None, :] - np.asarray(onset)[:, None] + 1
    share = np.clip(elapsed / np.asarray(months, dtype=np.float32).reshape(-1, 1), 0.0, 1.0)
    log_factor = np.log(np.asarray(factor, dtype=np.float32))[:, None]
    return np.exp(log_factor * share).astype(np.float32)
