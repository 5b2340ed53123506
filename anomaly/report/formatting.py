"""Human-readable numbers for the report: money as ``€1.7M``, scores as ``4.21``."""

from __future__ import annotations

import math

__all__ = ["MISSING", "format_money", "format_score"]

#: Shown for a value that is absent (NaN, None): an empty cell reads as "zero" to some.
MISSING = "—"

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
#: Ascending, so the largest unit not above the amount is the last one that fits.
_UNITS = ((1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "bn"), (1e12, "T"))


def _magnitude(amount: float) -> str:
    index = max(i for i, (size, _) in enumerate(_UNITS) if amount >= size or i == 0)
    size, suffix = _UNITS[index]
    scaled = amount / size
    # One decimal below 10 units, whole units above: two or three significant digits
    # keep a table cell narrow and are all a lead needs.
    text = f"{scaled:.1f}" if index > 0 and scaled < 9.95 else f"{scaled:.0f}"
    if text == "1000" and index + 1 < len(_UNITS):
        # 999_960 rounds to "1000k", which reads better as "1.0M".
        return f"{scaled / 1000:.1f}{_UNITS[index + 1][1]}"
    return text + suffix


def format_money(value: float | None, currency: str | None = None) -> str:
    """Format an amount compactly with its currency.

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
    if value is None or not math.isfinite(value):
        return MISSING
    body = _magnitude(abs(value))
    # No sign on an amount that rounds to zero: "-0" suggests a loss that is not there.
    sign = "-" if value < 0 and body != "0" else ""
    if currency is None:
        return sign + body
    symbol = _SYMBOLS.get(currency.upper())
    return sign + (symbol + body if symbol else f"{currency} {body}")


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
