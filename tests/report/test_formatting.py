from __future__ import annotations

import math

import pytest

from anomaly.report.formatting import MISSING, format_money, format_score


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (1_712_000, "EUR", "€1.7M"),
        (61e6, "USD", "$61M"),
        (52_400, "EUR", "€52k"),
        (830, "EUR", "€830"),
        (9_951, "EUR", "€10k"),
        (999_960, "EUR", "€1.0M"),  # not "€1000k"
        (999.7, "GBP", "£1.0k"),
        (2.5e9, "USD", "$2.5bn"),
        (0.4, "EUR", "€0"),
        (-0.3, "EUR", "€0"),  # no "-€0"
        (-1_712_000, "EUR", "-€1.7M"),
        (2_500, "CHF", "CHF 2.5k"),
        (2_500, None, "2.5k"),
    ],
)
def test_format_money(value: float, currency: str | None, expected: str) -> None:
    assert format_money(value, currency) == expected


@pytest.mark.parametrize("value", [None, math.nan, math.inf])
def test_missing_values_show_a_dash(value: float | None) -> None:
    assert format_money(value, "EUR") == MISSING
    assert format_score(value) == MISSING


def test_format_score_keeps_three_significant_digits() -> None:
    assert [format_score(v) for v in (4.2137, 12.54, 0.0312)] == ["4.21", "12.5", "0.0312"]
