"""Scores in a notebook: summary(), plot() and the rich display of Scores and the model."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from anomaly import Scores, TradeAnomalyModel
from anomaly.model.scores import (
    DISPLAY_LEADS,
    HISTORY_MONTHS,
    NOT_LISTED,
    TEXT_WIDTH,
    ScoresSummary,
)

from .conftest import NEW_FLOW, SCORE, TRAIN

TIERS = ["1", "2", "3.A", "3.B", "4.A", "4.B", NOT_LISTED]


def small_scores() -> Scores:
    """Three series over three months, built by hand.

    DEU→KGZ 854231 (CHP tier 1): a new flow that alerts; FRA→KAZ 220421 (wine, off the
    list): FRA published two of the three months; KGZ←DEU 854231: KGZ's own
    declaration, an import, published every month. KAZ published nothing.
    """
    leads = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "reporter": ["DEU", "KGZ", "FRA"],
            "partner": ["KGZ", "DEU", "KAZ"],
            "flow": ["export", "import", "export"],
            "hs": ["854231", "854231", "220421"],
            "score": [9.5, 4.0, 0.5],
            "alert": [True, False, False],
            "actual": [1.2e6, 9e5, 3e4],
            "expected": [3e3, 2e3, 3e4],
            "lower": [30.0, 20.0, 2e4],
            "upper": [1.1e4, 9e3, 4e4],
            "excess_value": [1.197e6, 8.98e5, 0.0],
            "mirror_gap": [0.25, np.nan, np.nan],
            "signals": ["new_flow;mirror_gap", "new_flow", ""],
            "explanation": ["<b>DEU→KGZ</b> & co", "KGZ←DEU", "FRA→KAZ"],
            "trained_nonzero": [0, 0, 14],
            "in_scope": [True, True, False],
        }
    )
    months = ["2022-01", "2022-02", "2022-03"]
    frame = pd.DataFrame(
        {
            "period": months * 3,
            "reporter": ["DEU"] * 3 + ["KGZ"] * 3 + ["FRA"] * 3,
            "partner": ["KGZ"] * 3 + ["DEU"] * 3 + ["KAZ"] * 3,
            "flow": ["export"] * 3 + ["import"] * 3 + ["export"] * 3,
            "hs": ["854231"] * 6 + ["220421"] * 3,
            "actual": [4e5, 4e5, 4e5, 3e5, 3e5, 3e5, 1e4, np.nan, 2e4],
            "expected": [1e3] * 6 + [1e4] * 3,
            "lower": [10.0] * 6 + [7e3] * 3,
            "upper": [4e3] * 6 + [1.4e4] * 3,
            "z": [5.0] * 9,
            "in_window": [True] * 9,
        }
    )
    run = {"scored_window": ["2022-01", "2022-03"], "currency": "EUR", "n_series": 3}
    return Scores(leads, frame, run)


@pytest.fixture(scope="module")
def scores(constructed_scores) -> Scores:
    return constructed_scores


# -- summary -------------------------------------------------------------------------


def test_summary_counts_what_the_leads_hold(scores):
    summary = scores.summary()
    leads = scores.leads
    assert isinstance(summary, ScoresSummary)
    assert summary.window == SCORE and summary.n_months == 24
    assert summary.currency == "EUR"
    assert summary.n_series == len(leads)
    assert summary.n_alerts == leads["alert"].sum() > 0
    assert summary.n_in_scope == leads["in_scope"].sum()
    alerted = leads.loc[leads["alert"], "excess_value"].clip(lower=0)
    assert summary.excess_value == pytest.approx(alerted.sum())


def test_alerts_by_destination_add_up_and_count_imports_at_the_declarer(scores):
    table = scores.summary().by_destination
    assert list(table.columns) == ["series", "alerts", "excess_value"]
    assert table["series"].sum() == len(scores.leads)
    assert table["alerts"].sum() == scores.leads["alert"].sum()
    assert table["alerts"].is_monotonic_decreasing
    # The planted new flow ITA→KGZ and KGZ's own import declaration of it both go to KGZ.
    assert table.loc[NEW_FLOW[1], "alerts"] >= 2
    assert "ITA" not in table.index


def test_alerts_by_tier_follow_the_chp_list(scores):
    table = scores.summary().by_tier
    assert table.index.name == "tier"
    assert list(table.index) == [tier for tier in TIERS if tier in table.index]
    assert table["series"].sum() == len(scores.leads)
    assert table["alerts"].sum() == scores.leads["alert"].sum()
    # Goods off the list are the general-demand control: never in scope, never alerts.
    assert table.loc[NOT_LISTED, "alerts"] == 0 < table.loc[NOT_LISTED, "series"]
    assert table.loc["1", "alerts"] > 0


def test_top_leads_are_the_best_leads_with_their_tier(scores):
    top = scores.summary(top=7).top_leads
    assert top["rank"].tolist() == list(range(1, 8))
    assert top[["reporter", "partner", "hs"]].equals(
        scores.leads.head(7)[["reporter", "partner", "hs"]].reset_index(drop=True)
    )
    assert top.loc[top["hs"] == "854231", "tier"].eq("1").all()
    assert {"score", "alert", "excess_value", "signals", "explanation"} <= set(top.columns)


def test_the_tables_are_dataframes_by_name(scores):
    summary = scores.summary()
    assert set(summary.tables) == {"by_destination", "by_tier", "top_leads"}
    assert all(isinstance(table, pd.DataFrame) for table in summary.tables.values())
    assert summary.tables["by_tier"] is summary.by_tier


def test_notes_name_who_published_nothing_or_part_and_the_new_flows():
    summary = small_scores().summary()
    assert summary.by_tier.index.tolist() == ["1", NOT_LISTED]
    assert summary.by_destination.loc["KGZ", "series"] == 2  # DEU's export, KGZ's import
    silent, partial, new = summary.notes
    assert silent.startswith("No data from KAZ in the window: its side")
    assert "FRA (2 of 3)" in partial and "DEU" not in partial and "KGZ" not in partial
    assert new.startswith("1 of the 1 alerts are new flows")


def test_a_run_with_full_coverage_and_no_new_flows_has_no_notes():
    scores = small_scores()
    frame = scores.frame.assign(actual=scores.frame["actual"].fillna(0.0))
    # KAZ publishes too: a mirror row of its own.
    kaz = frame.iloc[6:9].assign(reporter="KAZ", partner="FRA", flow="import")
    leads = scores.leads.assign(trained_nonzero=14)
    summary = Scores(leads, pd.concat([frame, kaz]), scores.run).summary()
    assert summary.notes == ()


def test_the_text_reads_like_a_results_summary(scores):
    summary = scores.summary()
    text = str(summary)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= TEXT_WIDTH
    assert lines[0].strip() == "Trade anomaly scores"
    for title in ("Alerts by destination", "Alerts by CHP tier", "Top leads", "Notes:"):
        assert title in lines
    assert re.search(r"Scored window:\s+2022-01\.\.2023-12", text)
    assert re.search(rf"Alerts:\s+{summary.n_alerts} \(", text)
    assert repr(summary) == text == summary.as_text()


def test_the_html_summary_escapes_and_holds_every_table():
    summary = small_scores().summary()
    page = summary._repr_html_()
    assert page == summary.as_html()
    assert page.count("<table>") == 4  # the header, then the three tables
    assert "Alerts by CHP tier" in page and "No data from KAZ" in page
    assert "2022-01..2022-03" in page


# -- rich display --------------------------------------------------------------------


def test_scores_display_is_short_and_escaped():
    scores = small_scores()
    page = scores._repr_html_()
    assert "2022-01..2022-03" in page and "EUR" in page
    assert "&lt;b&gt;DEU→KGZ&lt;/b&gt; &amp; co" in page and "<b>" not in page
    assert repr(scores) == "<Scores: 2022-01..2022-03, 3 series, 1 alerts, EUR>"


def test_scores_display_lists_a_few_leads(scores):
    page = scores._repr_html_()
    body = page[page.index("<tbody>") :]
    assert body.count("<tr>") == DISPLAY_LEADS
    assert f"{len(scores.leads):,} series" in repr(scores)


def test_model_display_names_window_series_and_detectors(constructed_model):
    page = constructed_model._repr_html_()
    assert "..".join(TRAIN) in page
    assert f"{len(constructed_model.keys_):,}" in page
    for detector in constructed_model.detectors_:
        assert detector.name in page
    assert repr(constructed_model).startswith("<TradeAnomalyModel: training window: 2015-01")


def test_an_unfitted_model_displays_as_not_fitted():
    model = TradeAnomalyModel()
    assert "not fitted" in model._repr_html_()
    assert "not fitted" in repr(model)


# -- plot ----------------------------------------------------------------------------


@pytest.fixture
def pyplot():
    pytest.importorskip("matplotlib")
    from matplotlib import pyplot

    yield pyplot
    pyplot.close("all")


def test_plot_draws_the_reports_chart_of_a_lead(scores, pyplot):
    import matplotlib

    axes = scores.plot(1)
    lead = scores.leads.iloc[0]
    figure = axes.figure
    assert figure.get_suptitle() == f"{lead['reporter']}→{lead['partner']} {lead['hs']}"
    assert axes.get_title(loc="left") == " · ".join(lead["signals"].split(";"))
    labels = [line.get_label() for line in axes.get_lines()]
    assert labels == ["expected", "actual", "scoring start"]
    # The top leads are drawn with their months before the window.
    actual = axes.get_lines()[1]
    first = pd.Timestamp(actual.get_xdata()[0]).to_period("M")
    assert first == pd.Period(SCORE[0], freq="M") - HISTORY_MONTHS
    # In pyplot's figures, so that a notebook shows it (matplotlib 3.10 on).
    if matplotlib.__version_info__ >= (3, 10):
        assert any(pyplot.figure(number) is figure for number in pyplot.get_fignums())


def test_plot_takes_a_rank_a_key_or_a_row(scores, pyplot):
    row = scores.leads.iloc[4]
    key = tuple(row[["reporter", "partner", "flow", "hs"]])
    titles = {
        scores.plot(5).figure.get_suptitle(),
        scores.plot(np.int64(5)).figure.get_suptitle(),
        scores.plot(key).figure.get_suptitle(),
        scores.plot(row).figure.get_suptitle(),
    }
    assert titles == {f"{row['reporter']}→{row['partner']} {row['hs']}"}


def test_plot_of_a_lead_below_the_charted_history_shows_the_window(pyplot):
    scores = small_scores()
    axes = scores.plot(3)
    actual = axes.get_lines()[1].get_ydata()
    # FRA did not publish 2022-02: a gap, not a zero.
    assert actual[0] == 1e4 and np.isnan(actual[1]) and actual[2] == 2e4


def test_plot_of_an_unknown_lead_says_so(pyplot):
    scores = small_scores()
    with pytest.raises(KeyError, match="rank 9"):
        scores.plot(9)
    with pytest.raises(KeyError, match="DEU/RUS/export/854231"):
        scores.plot(("DEU", "RUS", "export", "854231"))


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr("anomaly.report.charts.matplotlib_available", lambda: False)
    with pytest.raises(ImportError, match=r"anomaly\[plot\]"):
        small_scores().plot(1)
