"""The scoring context: what one chunk of series needs to know about all the others."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.model.context import MIN_CONTROL_SERIES, demand_growth
from anomaly.panel import build_panel

from .conftest import BOOM, BOOM_FACTOR, SCORE


@pytest.fixture(scope="module")
def panel_and_scorer(constructed_model, constructed_flows):
    """The panel to score and the model, whose public passes are tested here."""
    model = constructed_model
    return model.with_trained_series(build_panel(constructed_flows)), model


def window():
    return pd.Period(SCORE[0], "M"), pd.Period(SCORE[1], "M")


def test_contexts_of_chunks_merge_into_the_context_of_the_whole(panel_and_scorer):
    panel, scorer = panel_and_scorer
    start, end = window()
    whole = scorer.context(panel, start, end)
    rows = np.random.default_rng(0).permutation(panel.n_series)
    first, second = (
        scorer.context(panel.select(np.sort(part)), start, end) for part in np.array_split(rows, 2)
    )
    merged = scorer.merge_contexts([first, second])
    pd.testing.assert_frame_equal(merged.published, whole.published)
    pd.testing.assert_series_equal(merged.growth(), whole.growth())


def test_the_context_knows_who_published_each_month(panel_and_scorer):
    panel, scorer = panel_and_scorer
    context = scorer.context(panel, *window())
    assert len(context.periods) == 25  # the window and the month after it
    assert context.published_mask(["DEU"]).all()
    assert not context.published_mask(["RUS"]).any()  # stopped publishing after 2021
    assert not context.published_mask(["XXX"]).any()  # never seen


def test_the_context_measures_general_demand_at_a_booming_destination(panel_and_scorer):
    panel, scorer = panel_and_scorer
    growth = scorer.context(panel, *window()).growth()
    assert growth[(BOOM, "export")] == pytest.approx(BOOM_FACTOR, rel=0.1)
    assert growth[("KAZ", "export")] == pytest.approx(1.0, abs=0.2)


def demand_totals(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["partner", "flow", "actual", "expected", "n"])


def test_demand_growth_is_actual_over_expected_of_uncontrolled_goods():
    growth = demand_growth(
        demand_totals([("UZB", "export", 250.0, 100.0, 8), ("FRA", "export", 90.0, 100.0, 40)])
    )
    assert growth[("UZB", "export")] == pytest.approx(2.5)
    assert growth[("FRA", "export")] == pytest.approx(0.9)


def test_demand_growth_needs_enough_uncontrolled_series():
    growth = demand_growth(
        demand_totals(
            [
                ("UZB", "export", 250.0, 100.0, MIN_CONTROL_SERIES - 1),
                ("GEO", "export", 250.0, 100.0, MIN_CONTROL_SERIES),
            ]
        )
    )
    assert ("UZB", "export") not in growth.index
    assert ("GEO", "export") in growth.index


def test_demand_growth_skips_destinations_with_nothing_expected_and_never_reaches_zero():
    growth = demand_growth(
        demand_totals([("UZB", "export", 50.0, 0.0, 9), ("GEO", "export", 0.0, 100.0, 9)])
    )
    assert list(growth.index) == [("GEO", "export")]
    assert growth.iloc[0] > 0
