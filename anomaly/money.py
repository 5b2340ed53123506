"""Amounts of money as people read them: ``€1.7M``, ``$61M``, ``€52k``.

The one home of how the package writes money. :func:`format_money` is the reference,
one amount at a time; a :class:`MoneyStyle` holds the conventions of one kind of output:

- :data:`EXPLANATION`: the explanations in ``leads.csv``. They are built for whole
  columns at once by :func:`anomaly.model.explain.money`, which must give the same
  text as ``format_money(value, currency, style=EXPLANATION)`` for every amount
  (``tests/model/test_explain.py`` checks it on thousands);
- :data:`REPORT`: the HTML report's tables and chart axes
  (:func:`anomaly.report.format_money`).

Both write whole units below a thousand, then a unit suffix per factor of a thousand
with one decimal below ten of the unit; an amount that rounds up to a thousand of its
unit is written in the next one (999,999 is ``€1.0M``, never ``€1000k``), and an
amount that rounds to zero has no sign. The styles differ where the two outputs always
have: suffixes, the missing-value mark, which currencies get a symbol or their code,
and at the edges of rounding (see :class:`MoneyStyle`). Converging them would change
the text of one output or the other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["EXPLANATION", "REPORT", "MoneyStyle", "format_money"]


@dataclass(frozen=True)
class MoneyStyle:
    """The conventions one kind of output writes money in.

    Attributes
    ----------
    suffixes : tuple of str
        The suffix of each unit, from ones up in steps of a thousand
        (``("", "k", "M", "B")``); amounts beyond the last unit count in it.
    symbols : mapping of str to str
        Currency symbols by ISO 4217 code (``{"EUR": "€"}``).
    currency_codes : bool
        Whether a currency without a symbol is named by its code (``CHF 2.5k``), with
        symbols found whatever the code's case; without, such amounts are bare numbers
        and only a code spelled as in ``symbols`` gets its symbol.
    missing : str
        The text of an absent amount (NaN, infinite, None).
    exact : bool
        Round the amount's exact value (True) or its quotient by the unit as computed
        in floating point (False): they differ on amounts such as 1,150,000, exactly
        1.15M, which is ``1.2M`` exactly (ties to even) but ``1.1M`` from the float
        1.15 (a little less than 1.15).
    decimals_below : float
        Amounts of a thousand or more show one decimal while below this many of their
        unit: 10 gives ``€9.96M`` as ``€10.0M``; 9.95 gives it as ``€10M``.
    """

    suffixes: tuple[str, ...]
    symbols: Mapping[str, str]
    currency_codes: bool
    missing: str
    exact: bool
    decimals_below: float


#: The explanations of ``leads.csv`` (see :func:`anomaly.model.explain.money`).
EXPLANATION = MoneyStyle(
    suffixes=("", "k", "M", "B"),
    symbols={"EUR": "€", "USD": "$"},
    currency_codes=False,
    missing="n/a",
    exact=True,
    decimals_below=10.0,
)
#: The HTML report (see :func:`anomaly.report.format_money`).
REPORT = MoneyStyle(
    suffixes=("", "k", "M", "bn", "T"),
    symbols={"EUR": "€", "USD": "$", "GBP": "£"},
    currency_codes=True,
    missing="—",
    exact=False,
    decimals_below=9.95,
)


def format_money(value: float | None, currency: str | None = None, *, style: MoneyStyle) -> str:
    """Format an amount compactly with its currency, in the conventions of ``style``.

    Parameters
    ----------
    value : float or None
        The amount; NaN, infinite or None give ``style.missing``.
    currency : str, optional
        ISO 4217 code; ``None`` (currency not recorded) gives a bare number.
    style : MoneyStyle
        :data:`EXPLANATION` or :data:`REPORT`.

    Returns
    -------
    str

    Examples
    --------
    >>> format_money(1_712_000, "EUR", style=REPORT), format_money(2.5e9, "USD", style=REPORT)
    ('€1.7M', '$2.5bn')
    >>> format_money(2.5e9, "USD", style=EXPLANATION), format_money(None, "EUR", style=EXPLANATION)
    ('$2.5B', 'n/a')
    >>> format_money(-2_500, "CHF", style=REPORT), format_money(-2_500, "CHF", style=EXPLANATION)
    ('-CHF 2.5k', '-2.5k')
    """
    if value is None or not math.isfinite(value):
        return style.missing
    amount = abs(float(value))
    unit = 0
    # An amount shown as a thousand or more of its unit takes the next one.
    while unit + 1 < len(style.suffixes) and round(_in_unit(amount, unit, style)) >= 1000:
        unit += 1
    shown = _in_unit(amount, unit, style)
    decimals = 1 if unit > 0 and shown < Fraction(style.decimals_below) else 0
    digits = round(shown * 10**decimals)  # ties to even
    body = f"{digits // 10}.{digits % 10}" if decimals else str(digits)
    # No sign on an amount that rounds to zero: "-0" suggests a loss that is not there.
    sign = "-" if value < 0 and digits != 0 else ""
    return sign + _currency_prefix(currency, style) + body + style.suffixes[unit]


def _in_unit(amount: float, unit: int, style: MoneyStyle) -> Fraction:
    """``amount`` counted in ``unit`` (thousands to the power ``unit``), as an exact
    fraction of its exact value or of the floating-point quotient."""
    size = 1000**unit
    return Fraction(amount) / size if style.exact else Fraction(amount / size)


def _currency_prefix(currency: str | None, style: MoneyStyle) -> str:
    if currency is None:
        return ""
    if not style.currency_codes:
        return style.symbols.get(currency, "")
    symbol = style.symbols.get(currency.upper())
    return symbol if symbol is not None else f"{currency} "
