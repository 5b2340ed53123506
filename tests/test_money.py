"""The reference money formatter and the two styles it writes in."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest

from anomaly.money import EXPLANATION, REPORT, format_money


def _exact(amount: int) -> str:
    """An amount in the explanations' style, in exact decimal arithmetic (ties to even)."""
    rounded = Decimal(amount).quantize(Decimal(1), ROUND_HALF_EVEN)
    if rounded < 1000:
        return f"€{rounded}"
    for limit, suffix in ((1000, "k"), (10**6, "M"), (10**9, "B")):
        scaled = Decimal(amount) / limit
        step = Decimal(1) if scaled >= 10 else Decimal("0.1")
        shown = scaled.quantize(step, ROUND_HALF_EVEN)
        if shown < 1000 or suffix == "B":
            return f"€{shown}{suffix}"
    raise AssertionError


def test_explanation_style_rounds_like_exact_decimal_arithmetic():
    rng = np.random.default_rng(7)
    ties = [1150, 1250, 2_675_000, 12_500, 999_500, 999_950, 9_950, 10_050, 150_000_000]
    amounts = ties + [int(x) for x in np.exp(rng.uniform(0, np.log(5e12), 3000))]
    got = [format_money(a, "EUR", style=EXPLANATION) for a in amounts]
    assert [(a, g) for a, g in zip(amounts, got, strict=True) if g != _exact(a)] == []


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (1_712_000, "EUR", "€1.7M"),
        (61e6, "USD", "$61M"),
        (52_400, "EUR", "€52k"),
        (830, "EUR", "€830"),
        (999_960, "EUR", "€1.0M"),  # not "€1000k"
        (999.7, "GBP", "£1.0k"),
        (0.4, "EUR", "€0"),
        (-0.3, "EUR", "€0"),  # no "-€0"
        (-1_712_000, "EUR", "-€1.7M"),
        (2_500, None, "2.5k"),
        (999.6e12, "USD", "$1000T"),  # the last unit counts on
    ],
)
def test_report_style(value, currency, text):
    assert format_money(value, currency, style=REPORT) == text


@pytest.mark.parametrize(
    ("value", "currency", "explanation", "report"),
    [
        (2.5e9, "USD", "$2.5B", "$2.5bn"),
        (2.5e12, "USD", "$2500B", "$2.5T"),
        (math.nan, "EUR", "n/a", "—"),
        (None, "EUR", "n/a", "—"),
        (2_500, "CHF", "2.5k", "CHF 2.5k"),
        (2_500, "gbp", "2.5k", "£2.5k"),
        # A tie of the exact amount, 1.15M, against the float 1.15, a little less.
        (1_150_000, "EUR", "€1.2M", "€1.1M"),
        # Below 10M exactly, but 10.0M at one decimal.
        (9_960_000, "EUR", "€10.0M", "€10M"),
    ],
)
def test_where_the_styles_differ(value, currency, explanation, report):
    assert format_money(value, currency, style=EXPLANATION) == explanation
    assert format_money(value, currency, style=REPORT) == report


@pytest.mark.parametrize("style", [EXPLANATION, REPORT])
@pytest.mark.parametrize("unit", [0, 1, 2])
def test_an_amount_that_rounds_up_takes_the_next_unit(style, unit):
    size = 1000.0**unit
    assert format_money(999.5 * size, None, style=style) == "1.0" + style.suffixes[unit + 1]
    assert format_money(999.4 * size, None, style=style) == "999" + style.suffixes[unit]
