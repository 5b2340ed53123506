"""The placebo window: the last months of a training window, where the detectors are
calibrated on a forecast from the months before it."""

from __future__ import annotations

#: Fewest months a placebo window may hold.
MIN_PLACEBO_MONTHS = 3


def placebo_length(placebo_months: int, n_months: int) -> int:
    """Months of the placebo window at the end of a training window of ``n_months``:
    ``placebo_months``, at most a third of the window (the rest is what the placebo
    is forecast from).

    Examples
    --------
    >>> placebo_length(12, 84), placebo_length(12, 24), placebo_length(12, 12)
    (12, 8, 4)
    """
    return min(placebo_months, n_months // 3)
