"""TradeAnomalyModel: fit, score, the leads and frame contracts, quality, bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anomaly import TradeAnomalyModel
from anomaly.errors import (
    CurrencyError,
    DataError,
    DuplicateKeyError,
    FormatError,
    InvalidValueError,
    NotFittedError,
)
from anomaly.evaluate.leads import evaluate_leads
from anomaly.io import convert_currency
from anomaly.model import Scores, trade_model
from anomaly.model.leads import LEAD_COLUMNS
from anomaly.panel import Panel, build_panel
from anomaly.simulate import simulate_world

from .conftest import SCORE, TRAIN

KEYS = ["reporter", "partner", "flow", "hs"]
FRAME_COLUMNS = ["period", *KEYS, "actual", "expected", "lower", "upper", "z"]
DOCUMENTED_LEAD_COLUMNS = [
    "rank",
    *KEYS,
    "score",
    "alert",
    "actual",
    "expected",
    "lower",
    "upper",
    "excess_value",
    "mirror_gap",
    "signals",
    "explanation",
]


def test_fit_returns_the_model_with_its_training_window(constructed_flows):
    model = TradeAnomalyModel(n_estimators=10)
    assert model.fit(constructed_flows, *TRAIN) is model
    assert model.train_window_ == TRAIN
    assert model.currency_ == "EUR"
    assert len(model.keys_) == len(model.forecaster_.series_info_)


def test_init_only_stores_parameters():
    model = TradeAnomalyModel(hs_level=4, false_alarm_rate=0.05)
    assert not [name for name in vars(model) if name.endswith("_")]
    assert (model.hs_level, model.false_alarm_rate, model.forecaster) == (4, 0.05, None)


def test_scoring_before_fit_raises_not_fitted_error(constructed_flows):
    with pytest.raises(NotFittedError, match="fit"):
        TradeAnomalyModel().score(constructed_flows, "2022-01")


def test_leads_have_the_documented_columns_first(constructed_leads):
    assert list(LEAD_COLUMNS) == DOCUMENTED_LEAD_COLUMNS
    assert list(constructed_leads.columns[: len(LEAD_COLUMNS)]) == DOCUMENTED_LEAD_COLUMNS


def test_leads_are_ranked_in_scope_first_then_by_score(constructed_leads):
    leads = constructed_leads
    assert leads["rank"].tolist() == list(range(1, len(leads) + 1))
    in_scope = leads["in_scope"].to_numpy()
    assert not np.any(in_scope[1:] & ~in_scope[:-1])  # no in-scope lead after an out-of-scope
    for _, part in leads.groupby("in_scope"):
        assert part["score"].is_monotonic_decreasing


def test_there_is_one_lead_per_series(constructed_leads):
    assert not constructed_leads.duplicated(KEYS).any()


def test_lead_values_are_consistent(constructed_leads):
    leads = constructed_leads
    np.testing.assert_allclose(leads["excess_value"], leads["actual"] - leads["expected"])
    assert (leads["lower"] <= leads["expected"]).all()
    assert (leads["expected"] <= leads["upper"]).all()
    assert (leads["score"] >= 0).all()
    assert leads["alert"].dtype == bool
    assert leads["explanation"].str.len().gt(0).all()


def test_the_frame_has_one_row_per_series_month_of_the_window(constructed_scores):
    frame, leads = constructed_scores.frame, constructed_scores.leads
    assert list(frame.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    window = frame[frame["in_window"]]
    n_months = len(pd.period_range(*SCORE, freq="M"))
    assert len(window) == len(leads) * n_months
    assert set(window["period"]) == {str(p) for p in pd.period_range(*SCORE, freq="M")}


def test_frame_months_add_up_to_the_leads_window_totals(constructed_scores):
    window = constructed_scores.frame.query("in_window")
    published = window.assign(expected=window["expected"].where(window["actual"].notna()))
    totals = published.groupby(KEYS)[["actual", "expected"]].sum()
    leads = constructed_scores.leads.set_index(KEYS)
    np.testing.assert_allclose(totals.loc[leads.index, "actual"], leads["actual"])
    np.testing.assert_allclose(totals.loc[leads.index, "expected"], leads["expected"])


def test_frame_intervals_bracket_the_expected_value(constructed_scores):
    window = constructed_scores.frame.query("in_window")
    assert (window["lower"] <= window["upper"]).all()
    assert window["z"].dropna().between(-8.01, 8.01).all()


def test_the_frame_keeps_earlier_months_of_the_top_leads_for_charts(constructed_scores):
    history = constructed_scores.frame.query("not in_window")
    assert len(history) > 0
    assert (history["period"] < SCORE[0]).all()
    assert history["expected"].isna().all()


def test_scoring_only_post_war_rows_equals_scoring_the_full_table(
    constructed_model, constructed_flows, constructed_scores
):
    post_war = constructed_flows[constructed_flows["period"] >= pd.Period(SCORE[0], "M")]
    scores = constructed_model.score(post_war, *SCORE)
    pd.testing.assert_frame_equal(scores.leads, constructed_scores.leads)
    order = [*KEYS, "period"]
    full = constructed_scores.frame.query("in_window").sort_values(order, ignore_index=True)
    only = scores.frame.query("in_window").sort_values(order, ignore_index=True)
    pd.testing.assert_frame_equal(only, full)


def test_the_window_ends_at_the_last_month_of_the_data_by_default(
    constructed_model, constructed_flows
):
    scores = constructed_model.score(constructed_flows, "2023-07")
    assert scores.run["scored_window"] == ["2023-07", "2024-01"]


def test_run_records_window_currency_and_counts(constructed_scores):
    run = constructed_scores.run
    assert run["scored_window"] == list(SCORE)
    assert run["currency"] == "EUR"
    assert run["n_series"] == len(constructed_scores.leads)
    assert run["n_alerts"] == int(constructed_scores.leads["alert"].sum())


def test_pandas_3_string_columns_give_the_same_leads(constructed_flows, constructed_leads):
    with pd.option_context("future.infer_string", True):
        flows = constructed_flows.astype({column: "str" for column in KEYS})
        model = TradeAnomalyModel(n_estimators=100).fit(flows, *TRAIN)
        leads = model.score(flows, *SCORE).leads
    columns = ["rank", *KEYS, "score", "alert", "actual", "expected", "signals"]
    pd.testing.assert_frame_equal(
        leads[columns].astype({c: object for c in [*KEYS, "signals"]}),
        constructed_leads[columns].astype({c: object for c in [*KEYS, "signals"]}),
        check_column_type=False,
    )


def test_planted_evasion_dominates_the_top_of_the_ranking(planted, planted_scores):
    report = evaluate_leads(planted_scores.leads, planted.labels, k=(10, 20, 50))
    assert report["n_positives"] >= 30
    assert report["precision@10"] >= 0.9
    assert report["precision@20"] >= 0.8
    assert report["recall@top2%"] >= 0.8
    assert report["average_precision"] >= 0.75


def test_planted_phantom_exports_are_among_the_first_leads(planted, planted_scores):
    labels = planted.labels
    phantom = labels[labels["scheme"] == "phantom_export"][KEYS]
    ranks = planted_scores.leads.merge(phantom, on=KEYS)["rank"]
    assert len(ranks) == len(phantom) > 0
    assert ranks.max() <= 10


def test_placebo_world_alerts_few_series_and_never_out_of_scope(placebo_leads):
    assert placebo_leads["in_scope"].sum() >= 80
    assert placebo_leads["alert"].mean() <= 0.015  # evaluate_leads' alert_rate
    assert not placebo_leads.loc[~placebo_leads["in_scope"], "alert"].any()


PLACEBO_BUG = (
    "BUG: on placebo worlds the alert rate among in-scope series (the population the "
    "threshold is calibrated on) is ~2.3%, above 1.5x the documented 1%: 5/144 here; "
    "17/751 over seeds 1-6 at 2,000 series; 53/2224 over seeds 101-104 at 10,000 (the "
    "committed 0.92% is seed 101 alone). The threshold comes from a 12-month placebo at "
    "horizons 1-12; alerts grow with the horizon (2019: 1.2%, 2021: 2.2%)"
)


def test_placebo_world_in_scope_alert_rate_is_within_one_and_a_half_times_one_percent(
    placebo_leads,
):
    in_scope = placebo_leads["in_scope"]
    assert placebo_leads.loc[in_scope, "alert"].mean() <= 0.015


@pytest.mark.slow
def test_placebo_in_scope_alert_rate_pooled_over_seeds_is_within_one_and_a_half_percent():
    alerts = scoped = 0
    for seed in (1, 2, 4, 5):  # seed 3 is the fixture above
        world = simulate_world(2_000, seed=seed, schemes=False, decoys=False)
        model = TradeAnomalyModel(n_estimators=100).fit(world.flows, "2015-01", "2018-12")
        leads = model.score(world.flows, "2019-01", "2021-12").leads
        alerts += int(leads.loc[leads["in_scope"], "alert"].sum())
        scoped += int(leads["in_scope"].sum())
    assert alerts / scoped <= 0.015


def test_fitting_twice_gives_identical_leads(constructed_flows, constructed_leads):
    again = TradeAnomalyModel(n_estimators=100).fit(constructed_flows, *TRAIN)
    pd.testing.assert_frame_equal(again.score(constructed_flows, *SCORE).leads, constructed_leads)


def test_fitting_a_panel_reads_its_matrix_without_copying_or_changing_it(
    constructed_flows, constructed_model, monkeypatch
):
    panel = build_panel(constructed_flows)
    # A series with values after the training window only: the fit leaves it out.
    late = pd.DataFrame([panel.keys.iloc[0].to_dict() | {"partner": "UZB"}])
    values = np.vstack([panel.values, np.full((1, panel.n_periods), np.nan)])
    values[-1, -3:] = 5.0
    panel = Panel(pd.concat([panel.keys, late], ignore_index=True), panel.periods, values, "EUR")
    unchanged = panel.values.copy()
    monkeypatch.setattr(trade_model, "FINGERPRINT_ROWS", 7)  # hashed in blocks of 7 rows

    model = TradeAnomalyModel(n_estimators=100).fit(panel, *TRAIN)

    np.testing.assert_array_equal(panel.values, unchanged)
    assert panel.values.flags.writeable
    assert model.keys_.equals(constructed_model.keys_)
    trained = panel.window(*TRAIN).values
    trained = trained[~np.isnan(trained).all(axis=1)]
    digest = hashlib.sha256(model.keys_.to_csv(index=False).encode())
    digest.update(",".join(str(p) for p in pd.period_range(*TRAIN, freq="M")).encode())
    digest.update(np.ascontiguousarray(trained, dtype="<f8").tobytes())
    assert model.data_fingerprint_ == digest.hexdigest() == constructed_model.data_fingerprint_


def test_missing_columns_are_refused_with_their_names(constructed_model, constructed_flows):
    with pytest.raises(DataError, match=r"lacks columns \['value'\]"):
        constructed_model.score(constructed_flows.drop(columns="value"), *SCORE)
    with pytest.raises(DataError, match="hs"):
        TradeAnomalyModel().fit(constructed_flows.drop(columns="hs"), *TRAIN)


@pytest.mark.parametrize("start", ["2021-06", "2021-12", "2015-01"])
def test_a_scoring_window_inside_the_training_window_is_refused(
    constructed_model, constructed_flows, start
):
    with pytest.raises(DataError, match=r"inside the training window 2015-01\.\.2021-12"):
        constructed_model.score(constructed_flows, start, "2022-06")


def test_a_scoring_window_wholly_after_the_data_is_refused(constructed_model, constructed_flows):
    with pytest.raises(DataError, match="ends at 2025-06, after the data"):
        constructed_model.score(constructed_flows, "2025-01", "2025-06")


def test_a_start_after_the_data_without_an_end_names_the_data(constructed_model, constructed_flows):
    # Without an end the window runs to the data's last month, here before the start.
    after = r"starts at 2025-01, after the data \(2015-01\.\.2024-01\); expected a start of 2024-01"
    with pytest.raises(DataError, match=after):
        constructed_model.score(constructed_flows, "2025-01")


def test_a_window_ending_before_it_starts_is_refused(constructed_model, constructed_flows):
    with pytest.raises(DataError, match=r"ends .* before it starts"):
        constructed_model.score(constructed_flows, "2023-01", "2022-06")


def test_a_table_built_by_hand_is_checked_as_a_file_is(constructed_model, constructed_flows):
    # Summed into a panel unchecked, a negative value or a repeated row would be read
    # as trade, and codes stored as numbers would lose their leading zeros.
    negative = constructed_flows.copy()
    negative.loc[3, "value"] = -1.0
    with pytest.raises(InvalidValueError, match="line 5: 1 negative value"):
        constructed_model.score(negative, *SCORE)
    repeated = pd.concat([constructed_flows, constructed_flows.iloc[[7]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError, match="on lines 9 and"):
        constructed_model.score(repeated, *SCORE)
    numbers = constructed_flows.assign(hs=constructed_flows["hs"].astype(int))
    with pytest.raises(FormatError, match="stored as int64 numbers"):
        TradeAnomalyModel().fit(numbers, *TRAIN)


def test_an_empty_flows_table_is_refused(constructed_model, constructed_flows):
    with pytest.raises(DataError, match="the table has no rows"):
        constructed_model.score(constructed_flows.iloc[:0], *SCORE)


def test_a_training_window_before_the_data_is_refused_naming_the_first_month(constructed_flows):
    with pytest.raises(DataError, match=r"starts at 2005-01, before the data .*2015-01"):
        TradeAnomalyModel().fit(constructed_flows, "2005-01", "2010-12")


def test_a_training_window_past_the_data_is_refused(constructed_flows):
    with pytest.raises(DataError, match=r"ends at 2030-12, after the data .*2024-01"):
        TradeAnomalyModel().fit(constructed_flows, "2015-01", "2030-12")


def test_the_training_window_starts_with_the_data_by_default(constructed_flows):
    late = constructed_flows[constructed_flows["period"] >= pd.Period("2018-01", "M")]
    model = TradeAnomalyModel(n_estimators=20).fit(late, train_end="2021-12")
    assert model.train_window_ == ("2018-01", "2021-12")


def test_a_training_window_too_short_to_calibrate_is_refused(constructed_flows):
    with pytest.raises(DataError, match="at least 9 months"):
        TradeAnomalyModel().fit(constructed_flows, "2015-01", "2015-06")


def test_annual_periods_are_refused(constructed_flows):
    yearly = constructed_flows.assign(period=constructed_flows["period"].dt.asfreq("Y"))
    yearly = yearly.groupby(["period", *KEYS], as_index=False)["value"].sum()
    with pytest.raises(DataError, match="monthly"):
        TradeAnomalyModel().fit(yearly, "2015", "2021")


def test_demo_data_gives_leads_with_the_known_surges_in_scope(demo_scores):
    leads = demo_scores.leads
    top = leads.head(50)
    assert top["partner"].isin(["KGZ", "ARM", "KAZ"]).sum() >= 20
    to_russia = leads[(leads["partner"] == "RUS") & leads["signals"].str.contains("compliance")]
    assert len(to_russia) > 20
    assert not to_russia["alert"].any()


def test_data_in_another_currency_are_refused(constructed_model, constructed_flows):
    dollars = constructed_flows.copy()
    dollars.attrs["currency"] = "USD"
    with pytest.raises(
        CurrencyError, match="data are in USD, the model was trained on EUR"
    ) as error:
        constructed_model.score(dollars, *SCORE)
    assert "anomaly.io.convert_currency" in str(error.value)


def test_data_converted_into_the_models_currency_score_and_record_it(
    constructed_model, constructed_flows, constructed_scores
):
    dollars = constructed_flows.assign(value=constructed_flows["value"] * 2)
    dollars.attrs["currency"] = "USD"
    scores = constructed_model.score(convert_currency(dollars, "EUR", 0.5), *SCORE)
    pd.testing.assert_frame_equal(scores.leads, constructed_scores.leads)
    assert scores.run["currency"] == "EUR"
    assert scores.run["currency_conversion"] == {"from": "USD", "to": "EUR", "rates": 0.5}
    assert "currency_conversion" not in constructed_scores.run


def test_data_coarser_than_the_model_are_refused_naming_both_levels(
    constructed_model, constructed_flows
):
    coarse = constructed_flows.assign(hs=constructed_flows["hs"].str[:4])
    coarse = coarse.groupby(["period", *KEYS], as_index=False)["value"].sum()
    coarse.attrs["currency"] = "EUR"
    with pytest.raises(DataError, match=r"coarser than the 6 digits .* codes of 4 digits"):
        constructed_model.score(coarse, *SCORE)


def test_finer_data_are_aggregated_to_the_models_level(constructed_model, constructed_flows):
    finer = constructed_flows.assign(hs=constructed_flows["hs"] + "00")
    finer.attrs["currency"] = "EUR"
    leads = constructed_model.score(finer, *SCORE).leads
    assert leads["hs"].str.len().eq(6).all()
    same = constructed_model.score(constructed_flows, *SCORE).leads
    assert leads["score"].to_numpy() == pytest.approx(same["score"].to_numpy())


def test_scoring_data_the_model_has_not_seen_warns(constructed_model, constructed_flows, caplog):
    other = constructed_flows.assign(reporter=constructed_flows["reporter"].replace("DEU", "CHE"))
    other = other.assign(partner=other["partner"].replace("DEU", "CHE"))
    other = other[other["reporter"].isin(["CHE", "KAZ"])]
    other.attrs["currency"] = "EUR"
    with caplog.at_level("WARNING", logger="anomaly.model.trade_model"):
        constructed_model.score(other, *SCORE)
    assert "were seen in training" in caplog.text


def test_leads_name_the_good_and_its_chp_tier(constructed_leads):
    chips = constructed_leads[constructed_leads["hs"] == "854231"].iloc[0]
    assert chips["description"].startswith("Electronic integrated circuits")
    assert chips["chp_tier"] == "1"
    wine = constructed_leads[constructed_leads["hs"] == "220421"].iloc[0]
    assert pd.isna(wine["chp_tier"]) and "wine" in wine["description"].lower()
    assert "854231 (CHP tier 1: Electronic integrated circuits: processors" in chips["explanation"]
    assert "220421 (Wine; " in wine["explanation"]


def test_every_series_month_names_its_good_as_its_lead_does(constructed_scores):
    frame, leads = constructed_scores.frame, constructed_scores.leads
    goods = leads.set_index("hs")[["description", "chp_tier"]].drop_duplicates()
    assert goods.index.is_unique
    pd.testing.assert_frame_equal(
        frame[["description", "chp_tier"]].reset_index(drop=True),
        goods.reindex(frame["hs"]).reset_index(drop=True),
        check_dtype=False,
    )
    assert frame["chp_tier"].isna().any() and frame["chp_tier"].notna().any()


def test_scores_parquet_keeps_the_goods_as_text_when_none_is_listed(constructed_scores, tmp_path):
    """A chunk without a single CHP good must not write chp_tier as Arrow's null type."""
    off_list = constructed_scores.leads["chp_tier"].isna()
    leads = constructed_scores.leads[off_list]
    frame = constructed_scores.frame[constructed_scores.frame["hs"].isin(leads["hs"])]
    Scores(leads, frame, constructed_scores.run).write(tmp_path)
    schema = pq.read_schema(tmp_path / "scores.parquet")
    assert schema.field("chp_tier").type == pa.string()
    assert schema.field("description").type == pa.string()


def test_a_scoring_window_past_the_data_is_refused(constructed_model, constructed_flows):
    with pytest.raises(DataError, match=r"ends at 2030-12, after the data \(last month 2024-01\)"):
        constructed_model.score(constructed_flows, "2022-01", "2030-12")
