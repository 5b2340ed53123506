"""Human-readable numbers for the report: money as ``€1.7M``, scores as ``4.21``."""

from __future__ import annotations

import math

from anomaly.money import REPORT
from anomaly.money import format_money as format_in_style

__all__ = ["MISSING", "format_money", "format_score"]

#: Shown for a value that is absent (NaN, None): an empty cell reads as "zero" to some.
MISSING = REPORT.missing


def format_money(value: float | None, currency: str | None = None) -> str:
    """Format an amount compactly with its currency, as the report shows money.

    :func:`anomaly.money.format_money` in the :data:`anomaly.money.REPORT` style.

    Parameters
    ----------
    value : float or None
        The amount; NaN or None gives :data:`MISSING`.
    currency : str, optional
        ISO 4217 code. EUR, USD and GBP get their symbol, other codes a prefix, and
        ``None`` (currency not recorded) a bare number.

    Returns
    -------
    str

    Examples
    --------
    >>> format_money(1_712_000, "EUR"), format_money(61e6, "USD"), format_money(52_400, "EUR")
    ('€1.7M', '$61M', '€52k')
    >>> format_money(-2_500, "CHF"), format_money(float("nan")), format_money(830)
    ('-CHF 2.5k', '—', '830')
    """
    return format_in_style(value, currency, style=REPORT)


def format_score(value: float | None) -> str:
    """Format a score with three significant digits.

    Examples
    --------
    >>> format_score(4.2137), format_score(12.5), format_score(float("nan"))
    ('4.21', '12.5', '—')
    """
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{value:.3g}"
