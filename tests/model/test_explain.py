"""One-line explanations of leads and the amounts in them."""

from __future__ import annotations

import math
from collections import namedtuple

import pytest

from anomaly.model.explain import explain, money

Row = namedtuple(
    "Row",
    "reporter partner flow hs actual expected lower upper signals demand_factor mirror_gap "
    "not_received hub onward_ratio direct_drop",
)


def row(**changes) -> Row:
    """The issue's example lead: DEU→KGZ 854231, 28× its counterfactual."""
    values = {
        "reporter": "DEU",
        "partner": "KGZ",
        "flow": "export",
        "hs": "854231",
        "actual": 1.7e6,
        "expected": 0.06e6,
        "lower": 0.03e6,
        "upper": 0.11e6,
        "signals": "surge;mirror_gap;onward_to_RUS",
        "demand_factor": 1.0,
        "mirror_gap": 0.64,
        "not_received": 1.1e6,
        "hub": "KGZ",
        "onward_ratio": 40.0,
        "direct_drop": math.nan,
    }
    return Row(**(values | changes))


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (1_700_000, "EUR", "€1.7M"),
        (61e6, "USD", "$61M"),
        (6.6e6, "USD", "$6.6M"),
        (52_300, "EUR", "€52k"),
        (950, None, "950"),
        (2.5e9, "EUR", "€2.5B"),
        (-282_000, "EUR", "-€282k"),
        (0.0, "EUR", "€0"),
        (1234, "GBP", "1.2k"),
    ],
)
def test_money_is_short_and_readable(value, currency, text):
    assert money(value, currency) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, None])
def test_money_of_a_missing_amount_is_not_available(value):
    assert money(value, "EUR") == "n/a"


@pytest.mark.parametrize(("value", "text"), [(999_999, "€1.0M"), (999.96e6, "€1.0B")])
def test_money_rounds_up_into_the_next_unit(value, text):
    assert money(value, "EUR") == text


def test_explanation_reads_like_the_issues_example():
    text = explain(row(), currency="EUR", window="2022")
    assert text.startswith(
        "DEU→KGZ 854231: €1.7M in 2022 vs €60k expected (90% band €30k–€110k), 28×"
    )
    assert "mirror gap 64% (€1.1M declared shipped, not received)" in text
    assert "KGZ→RUS exports of 854231 up 40×" in text


def test_imports_point_the_other_way():
    text = explain(row(flow="import", reporter="KGZ", partner="DEU"), currency="EUR", window="w")
    assert text.startswith("KGZ←DEU 854231")


def test_parts_without_evidence_are_left_out():
    text = explain(
        row(mirror_gap=math.nan, hub=None, onward_ratio=math.nan, signals="surge"),
        currency="EUR",
        window="2022",
    )
    assert "mirror gap" not in text
    assert "→RUS" not in text


def test_a_falling_onward_flow_is_described_as_down():
    text = explain(row(onward_ratio=0.25), currency="EUR", window="2022")
    assert "KGZ→RUS exports of 854231 down 75%" in text


def test_rerouting_names_the_fall_of_direct_exports():
    text = explain(row(signals="surge;rerouting", direct_drop=15e6), currency="EUR", window="w")
    assert "direct exports to RUS/BLR fell by €15M" in text


def test_general_demand_growth_is_named_when_it_was_factored_in():
    assert "general demand ×2.50 factored in" in explain(
        row(demand_factor=2.5), currency="EUR", window="w"
    )
    assert "general demand" not in explain(row(), currency="EUR", window="w")


def test_a_new_flow_says_there_was_no_trade_before_the_war():
    text = explain(row(signals="new_flow", expected=0.0), currency="EUR", window="2022")
    assert "no pre-war trade expected" in text
    assert text.endswith("no trade before the war")


def test_a_compliance_drop_is_explained_as_compliance():
    text = explain(
        row(partner="RUS", actual=2e6, expected=18e6, signals="compliance_drop"),
        currency="EUR",
        window="2022",
    )
    assert "down 89%" in text
    assert text.endswith("(compliance, not a lead)")
    assert "mirror gap" not in text
