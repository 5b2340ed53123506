"""The scoring context: what one chunk of series needs to know about all the others."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly import TradeAnomalyModel
from anomaly.batch.store import load_context, save_context
from anomaly.forecast.publication import GAP_MIN_ROWS
from anomaly.model.context import (
    MIN_CHAPTER_ROWS,
    MIN_CONTROL_SERIES,
    build_context,
    demand_growth,
    partial_months,
)
from anomaly.panel import build_panel

from .conftest import BOOM, BOOM_FACTOR, SCORE, TRAIN


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


def test_a_demand_factor_is_bounded_and_shrunk_by_its_uncertainty():
    one_route = demand_totals([("KGZ", "export", 900.0, 10.0, 9)])
    assert demand_growth(one_route, bound=3.0)[("KGZ", "export")] == pytest.approx(3.0)
    agreeing = demand_totals([("UZB", "export", 25.0, 10.0, 3)] * 10)
    disagreeing = demand_totals(
        [("UZB", "export", a, 10.0, 3) for a in (5.0, 45.0, 10.0, 40.0, 25.0)]
    )
    kw = {"prior_sd": 0.5, "route_sd": 0.2}
    sure, unsure = demand_growth(agreeing, **kw), demand_growth(disagreeing, **kw)
    assert sure[("UZB", "export")] == pytest.approx(2.5, rel=0.02)
    assert 1.0 < unsure[("UZB", "export")] < 0.9 * 2.5


def test_a_sanctioned_destination_gets_no_demand_factor(panel_and_scorer):
    panel, scorer = panel_and_scorer
    growth = scorer.context(panel, *window()).growth()
    assert not growth.index.get_level_values(0).isin(["RUS", "BLR"]).any()


def test_only_a_reporters_last_month_can_be_partial():
    rows = pd.DataFrame([[100, 40, 99, 97, 0], [100, 98, 101, 30, 0]], index=["KAZ", "RUS"])
    partial = partial_months(rows, rows * 1.0, pd.DataFrame(columns=["rows", "value"]))
    assert partial.loc["KAZ"].tolist() == [False] * 5  # a dip inside is trade
    assert partial.loc["RUS"].tolist() == [False, False, False, True, False]


def test_a_first_month_is_judged_against_the_training_norm_or_taken_as_published():
    rows = pd.DataFrame([[30, 0, 0], [30, 0, 0]], index=["RUS", "NEW"])
    norms = pd.DataFrame({"rows": [100.0], "value": [100.0]}, index=["RUS"])
    partial = partial_months(rows, rows * 1.0, norms)
    assert partial.loc["RUS"].tolist() == [True, False, False]
    assert partial.loc["NEW"].tolist() == [False, False, False]


@pytest.fixture(scope="module")
def partial_stop(constructed_flows):
    """Russia declares a third of its usual imports in 2022-01, then nothing."""
    exports = constructed_flows[
        (constructed_flows["partner"] == "RUS")
        & (constructed_flows["flow"] == "export")
        & (constructed_flows["period"] == pd.Period("2022-01", "M"))
    ]
    kept = exports.iloc[::3]
    imports = kept.assign(reporter="RUS", partner=kept["reporter"], flow="import")
    imports = imports.assign(value=(imports["value"] * 1.06).round())
    flows = pd.concat([constructed_flows, imports], ignore_index=True)
    flows.attrs["currency"] = "EUR"
    return flows


def test_a_partial_last_month_is_reported_and_read_as_missing(partial_stop):
    model = TradeAnomalyModel(n_estimators=50).fit(partial_stop, *TRAIN)
    panel = model.with_trained_series(build_panel(partial_stop))
    context = model.context(panel, *window())
    coverage = context.coverage()
    russia = coverage[coverage["reporter"] == "RUS"]
    assert russia.iloc[0].tolist() == ["RUS", "2022-01", "partial"]
    assert (russia["status"].iloc[1:] == "not published").all()
    scores = model.score(partial_stop, *SCORE)
    assert scores.run["coverage"]["partial"] == {"RUS": ["2022-01"]}
    assert scores.run["coverage"]["not published"]["RUS"][0] == "2022-02"
    leads = scores.leads
    to_russia = leads[(leads["partner"] == "RUS") & (leads["flow"] == "export")]
    assert to_russia["mirror_gap"].isna().all()
    assert not to_russia["signals"].str.contains("mirror_gap").any()


def direction_context(n_imports: int, exports_only_months: int):
    """One reporter (KAZ) with 30 export series and ``n_imports`` import series, whose
    last ``exports_only_months`` months hold exports only (imports not yet published)."""
    periods = pd.period_range("2022-01", periods=13, freq="M")  # window + month after
    n = 30 + n_imports
    keys = pd.DataFrame(
        {
            "reporter": "KAZ",
            "partner": [f"P{i:02d}" for i in range(n)],
            "flow": ["export"] * 30 + ["import"] * n_imports,
            "hs": "854231",
        }
    )
    values = np.full((n, len(periods)), 100.0)
    if exports_only_months:
        values[30:, -exports_only_months:] = np.nan
    expected = np.zeros((n, len(periods) - 1))
    return build_context(keys, values, periods, expected, np.zeros(n, dtype=bool))


def test_a_reporter_that_published_exports_but_not_imports_has_imports_unpublished():
    context = direction_context(n_imports=25, exports_only_months=3)
    gaps = context.direction_gaps["imports"].loc["KAZ"].to_numpy()
    assert gaps.tolist() == [False] * 10 + [True] * 3
    assert not context.direction_gaps["exports"].to_numpy().any()
    imports = context.published_mask(["KAZ"], 12, flows="import")[0]
    exports = context.published_mask(["KAZ"], 12, flows=["export"])[0]
    assert imports.tolist() == [True] * 10 + [False] * 2
    assert exports.all()
    coverage = context.coverage()
    assert coverage["status"].tolist() == ["imports not published"] * 2
    assert coverage["period"].tolist() == ["2022-11", "2022-12"]


def test_a_reporter_with_few_import_series_has_no_direction_gap():
    context = direction_context(n_imports=GAP_MIN_ROWS - 1, exports_only_months=3)
    assert not context.direction_gaps["imports"].to_numpy().any()
    assert context.published_mask(["KAZ"], 12, flows="import").all()


def test_direction_gaps_survive_merging_and_the_batch_store(tmp_path):
    whole = direction_context(n_imports=25, exports_only_months=3)
    saved = tmp_path / "context.npz"
    save_context(saved, whole)
    loaded = load_context(saved)
    merged = loaded.merge(direction_context(n_imports=0, exports_only_months=0))
    for context in (loaded, merged):
        pd.testing.assert_frame_equal(
            context.direction_gaps["imports"], whole.direction_gaps["imports"]
        )


def chapter_context(
    n_late: int = 30, late_months: int = 3, last_month_rows: int | None = None, to: str = ""
):
    """One reporter (KAZ) exporting 30 series of chapter 85 every month and ``n_late``
    series of chapter 84 (to ``to``, else to other partners), whose last ``late_months``
    months hold none of chapter 84 and whose month before them holds only
    ``last_month_rows`` of its series (all of them when None)."""
    periods = pd.period_range("2022-01", periods=13, freq="M")  # window + month after
    n = 30 + n_late
    keys = pd.DataFrame(
        {
            "reporter": "KAZ",
            "partner": [to or f"P{i:02d}" for i in range(n)],
            "flow": "export",
            "hs": ["854231"] * 30 + ["848210"] * n_late,
        }
    )
    keys.loc[:29, "partner"] = [f"P{i:02d}" for i in range(30)]
    values = np.full((n, len(periods)), 100.0)
    if late_months:
        values[30:, -late_months:] = np.nan
    if last_month_rows is not None:
        values[30 + last_month_rows :, -late_months - 1] = np.nan
    expected = np.zeros((n, len(periods) - 1))
    return build_context(keys, values, periods, expected, np.zeros(n, dtype=bool))


def test_a_chapter_a_reporter_has_not_yet_published_is_read_as_missing():
    context = chapter_context()
    missing, partial = context.chapter_gaps
    assert missing.loc[("KAZ", "exports", "84")].tolist() == [False] * 10 + [True] * 3
    assert not missing.loc[("KAZ", "exports", "85")].any()
    assert not partial.to_numpy().any()
    hs = ["848210", "854231"]
    mask = context.published_mask(["KAZ", "KAZ"], 12, flows="export", hs=hs)
    assert mask[0].tolist() == [True] * 10 + [False] * 2
    assert mask[1].all()
    # Without the codes, the reporter's month is published (it published chapter 85).
    assert context.published_mask(["KAZ"], 12, flows="export").all()
    coverage = context.coverage()
    assert coverage["status"].tolist() == ["chapter 84 exports not published"] * 2
    assert coverage["period"].tolist() == ["2022-11", "2022-12"]


def test_a_chapter_s_last_month_with_few_of_its_series_is_partial():
    context = chapter_context(late_months=2, last_month_rows=10)
    _, partial = context.chapter_gaps
    assert partial.loc[("KAZ", "exports", "84")].tolist() == [False] * 10 + [True] + [False] * 2
    mask = context.published_mask(["KAZ"], 12, flows="export", hs=["848210"])[0]
    assert mask.tolist() == [True] * 10 + [False] * 2
    assert "chapter 84 exports partial" in set(context.coverage()["status"])


def test_a_chapter_of_few_series_is_read_with_its_reporter():
    context = chapter_context(n_late=MIN_CHAPTER_ROWS - 1)
    missing, partial = context.chapter_gaps
    assert not (missing.to_numpy().any() or partial.to_numpy().any())
    assert context.published_mask(["KAZ"], 12, flows="export", hs=["848210"]).all()


def test_a_chapter_s_trade_with_a_sanctioned_country_stopping_is_trade_not_a_gap():
    # KAZ's exports of chapter 84 all go to Russia and stop: the sanctions, not a file.
    context = chapter_context(to="RUS")
    missing, _ = context.chapter_gaps
    assert ("KAZ", "exports", "84") not in missing.index
    assert context.published_mask(["KAZ"], 12, flows="export", hs=["848210"]).all()


def test_chapter_gaps_survive_merging_and_the_batch_store(tmp_path):
    whole = chapter_context()
    saved = tmp_path / "context.npz"
    save_context(saved, whole)
    loaded = load_context(saved)
    other = direction_context(n_imports=0, exports_only_months=0)  # more of chapter 85
    for context in (loaded, loaded.merge(other)):
        for got, want in zip(context.chapter_gaps, whole.chapter_gaps, strict=True):
            pd.testing.assert_frame_equal(got.astype(bool), want.astype(bool))
