"""One-line explanations of leads and the amounts in them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from anomaly.detect import DetectionConfig, Ensemble, default_detectors
from anomaly.model.explain import _rounded, explanations, money
from anomaly.money import EXPLANATION, format_money

SIGNALS = Ensemble(default_detectors(DetectionConfig()), DetectionConfig(), 0.01).signal_names


def row(**changes) -> dict:
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
    return values | changes


def explain(
    lead: dict, *, currency: str | None, window: str, train_window: str | None = None
) -> str:
    """The explanation of one lead, through the table-wide function."""
    fired = lead["signals"].split(";")
    flags = {name: np.array([name in fired]) for name in SIGNALS}
    frame = pd.DataFrame([{k: v for k, v in lead.items() if k != "signals"}])
    return explanations(frame, flags, currency=currency, window=window, train_window=train_window)[
        0
    ]


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
    assert money([value], currency).to_pylist() == [text]


@pytest.mark.parametrize("value", [math.nan, math.inf, None])
def test_money_of_a_missing_amount_is_not_available(value):
    assert money([value], "EUR").to_pylist() == ["n/a"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(999_999, "€1.0M"), (999.96e6, "€1.0B"), (999.4, "€999"), (999.5, "€1.0k"), (9_960, "€10.0k")],
)
def test_money_rounds_up_into_the_next_unit(value, text):
    assert money([value], "EUR").to_pylist() == [text]


def test_money_of_a_tiny_negative_amount_has_no_sign():
    assert money([-0.3, -0.6], "EUR").to_pylist() == ["€0", "-€1"]


def test_money_of_amounts_beyond_exact_integers_stays_readable():
    assert money([2.5e18, -4e20], "USD").to_pylist() == ["$2500000000B", "-$400000000000B"]


def test_money_writes_what_the_reference_formatter_writes():
    # anomaly.money.format_money is the reference (itself checked against exact decimal
    # arithmetic in tests/test_money.py); the column-wide version must agree with it on
    # every amount: whole and fractional, at decimal ties, next to each unit's edges,
    # negative, missing. Beyond 9e24 floating point no longer tells whole billions apart.
    rng = np.random.default_rng(7)
    ties = [1150, 1250, 2_675_000, 12_500, 999_500, 999_950, 9_950, 10_050, 150_000_000]
    edges = [
        edge
        for unit in (1.0, 1e3, 1e6, 1e9, 1e12)
        for share in (0.9995, 0.99949, 0.9999, 1.15, 1.25, 9.95, 9.949, 9.96, 10, 999.5, 999.96)
        for edge in np.nextafter(unit * share, [0, unit * share, np.inf])
    ]
    amounts = np.concatenate(
        [
            ties,
            edges,
            np.round(np.exp(rng.uniform(0, np.log(5e12), 3000))),
            np.exp(rng.uniform(np.log(1e-3), np.log(1e15), 3000)),
            np.round(rng.uniform(0, 2000, 1000), 1),
            [0.0, -0.0, 0.5, 1.5, 2.5, 2.5e18, 4e20, math.nan, math.inf, -math.inf],
        ]
    )
    amounts = np.concatenate([amounts, -amounts])
    for currency in ("EUR", "USD", None, "GBP"):
        got = money(amounts, currency).to_pylist()
        expected = [format_money(a, currency, style=EXPLANATION) for a in amounts]
        assert [(a, g, e) for a, g, e in zip(amounts, got, expected, strict=True) if g != e] == []


def test_explanation_reads_like_the_issues_example():
    text = explain(row(), currency="EUR", window="2022")
    assert text.startswith(
        "DEU→KGZ 854231: €1.7M in 2022 vs €60k expected (90% band €30k–€110k), 28×"
    )
    assert "mirror gap 64% (€1.1M declared shipped, not received)" in text
    assert "KGZ→RUS/BLR exports of 854231 up 40×" in text


def test_the_onward_leg_is_named_by_its_destination_where_given():
    text = explain(row(onward_to="BLR"), currency="EUR", window="2022")
    assert "KGZ→BLR exports of 854231 up 40×" in text
    assert "RUS/BLR" not in text


def test_a_flow_that_turned_regular_says_how_often_it_traded():
    counts = {"months_traded": 35.0, "n_months": 36, "trained_nonzero": 52, "trained_months": 72}
    text = explain(row(signals="surge;regular_trade", **counts), currency="EUR", window="2022")
    said = "; traded in 35 of 36 months, against 72% of its months before"
    assert text.endswith(said)
    # Into a hub whose onward leg is shown, trading more often than before is said
    # without the signal: the re-routing reading counts it.
    into_hub = explain(row(signals="surge", **counts), currency="EUR", window="2022")
    assert into_hub.endswith(said)
    elsewhere = row(signals="surge", hub=None, onward_ratio=math.nan, **counts)
    assert "traded in" not in explain(elsewhere, currency="EUR", window="2022")
    less_often = row(signals="surge", **(counts | {"months_traded": 25.0}))  # 69% < 72%
    assert "traded in" not in explain(less_often, currency="EUR", window="2022")


def test_a_count_from_the_sanctions_onset_says_so():
    counts = {"months_traded": 34.0, "months_read": 34.0, "n_months": 36}
    before = {"trained_nonzero": 52, "trained_months": 72}
    text = explain(
        row(signals="surge;regular_trade", **counts, **before), currency="EUR", window="w"
    )
    assert text.endswith(
        "; traded in 34 of 34 months from the sanctions' onset, against 72% of its months before"
    )
    whole = explain(
        row(signals="surge;regular_trade", **(counts | {"months_read": 36.0}), **before),
        currency="EUR",
        window="w",
    )
    assert whole.endswith("; traded in 34 of 36 months, against 72% of its months before")


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
    assert "KGZ→RUS/BLR exports of 854231 down 75%" in text


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


def test_a_new_flow_reads_as_none_in_the_training_window():
    # The issue's case: a flow without history against the prior of such flows read
    # "426×"; named against the training window it reads as what happened.
    lead = row(signals="new_flow;mirror_gap", actual=1.24e6, expected=2_900.0, demand_factor=1.3)
    text = explain(lead, currency="EUR", window="2022", train_window="2020-01..2021-12")
    assert text.startswith("DEU→KGZ 854231: €1.2M in 2022, none in 2020-01..2021-12; ")
    assert "expected" not in text
    assert "×;" not in text.split("; ")[0]
    assert "general demand" not in text
    assert "no trade before the war" not in text
    assert "mirror gap 64% (€1.1M declared shipped, not received)" in text
    assert "KGZ→RUS/BLR exports of 854231 up 40×" in text


def test_naming_the_training_window_changes_only_new_flows():
    rng = np.random.default_rng(3)
    n = 2000
    amounts = np.exp(rng.uniform(0, np.log(1e8), (6, n)))
    amounts[:, rng.random(n) < 0.1] = math.nan
    leads = pd.DataFrame(
        {
            "reporter": rng.choice(["DEU", "FRA"], n),
            "partner": rng.choice(["KAZ", "RUS", "KGZ"], n),
            "flow": rng.choice(["export", "import"], n),
            "hs": rng.choice(["854231", "880730", "00"], n),
            "hub": rng.choice(["KAZ", None], n),
            "actual": amounts[0],
            "expected": np.where(rng.random(n) < 0.2, 0.0, amounts[1]),
            "lower": amounts[2],
            "upper": amounts[3],
            "demand_factor": rng.uniform(0.5, 2.0, n),
            "mirror_gap": rng.uniform(-0.2, 1.0, n),
            "not_received": amounts[4],
            "onward_ratio": rng.uniform(0.0, 50.0, n),
            "direct_drop": amounts[5],
        }
    )
    flags = {name: rng.random(n) < 0.3 for name in SIGNALS}
    before = explanations(leads, flags, currency="EUR", window="2022")
    after = explanations(
        leads, flags, currency="EUR", window="2022", train_window="2020-01..2021-12"
    )
    new = flags["new_flow"] & ~flags["compliance_drop"]
    assert (after[~new] == before[~new]).all()
    assert all(", none in 2020-01..2021-12" in text for text in after[new])
    assert not any("none in" in text for text in before)


def test_a_compliance_drop_is_explained_as_compliance():
    text = explain(
        row(partner="RUS", actual=2e6, expected=18e6, signals="compliance_drop"),
        currency="EUR",
        window="2022",
    )
    assert "down 89%" in text
    assert text.endswith("(compliance, not a lead)")
    assert "mirror gap" not in text


def test_factors_round_as_pythons_formatting_even_at_decimal_ties():
    # 0.35 × 10 is exactly 3.5 in floating point, while the binary 0.35 is a little
    # less: the text must follow the value, as f"{0.35:.1f}" == "0.3" does.
    rng = np.random.default_rng(0)
    values = np.concatenate([np.round(rng.uniform(0, 10, 5000), 2), [0.05, 0.35, 2.675, 0.505]])
    tenths = _rounded(values, multiplier=10)
    hundredths = _rounded(values, multiplier=100)
    assert [f"{t / 10:.1f}" for t in tenths] == [f"{v:.1f}" for v in values]
    assert [f"{h / 100:.2f}" for h in hundredths] == [f"{v:.2f}" for v in values]
    assert _rounded(np.array([1150.0, 1250.0]), divisor=100).tolist() == [12.0, 12.0]
