import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from anomaly.errors import DataError
from anomaly.evaluate import (
    alert_rate,
    average_precision,
    detection_delay,
    detection_report,
    precision_at_k,
    recall_at_k,
    recall_within_top_fraction,
    value_captured_at_k,
)

# Ranking of this example (higher first, ties in input order, NaN last):
#   position  0    1    2    5    3    4
#   score     0.9  0.8  0.8  0.5  0.1  NaN
#   label     1    0    1    0    0    1
SCORES = np.array([0.9, 0.8, 0.8, 0.1, np.nan, 0.5])
LABELS = np.array([1, 0, 1, 0, 1, 0])
# Planted excess value of the positives 100 + 50 + 30 = 180; the negative's 999 is ignored.
VALUES = np.array([100.0, 999.0, 50.0, 0.0, 30.0, 0.0])


def test_precision_at_k_hand_computed():
    assert precision_at_k(SCORES, LABELS, 1) == 1.0  # [1]
    assert precision_at_k(SCORES, LABELS, 2) == 0.5  # [1, 0]
    assert precision_at_k(SCORES, LABELS, 3) == pytest.approx(2 / 3)  # [1, 0, 1]
    assert precision_at_k(SCORES, LABELS, 5) == pytest.approx(2 / 5)  # NaN-scored one not yet


def test_recall_at_k_hand_computed():
    # 3 positives; the top 3 hold 2 of them, only the full list holds the NaN-scored one.
    assert recall_at_k(SCORES, LABELS, 3) == pytest.approx(2 / 3)
    assert recall_at_k(SCORES, LABELS, 5) == pytest.approx(2 / 3)
    assert recall_at_k(SCORES, LABELS, 6) == 1.0


def test_k_larger_than_n_is_clipped_to_n():
    # Only 6 leads exist: precision over all 6 is 3/6, recall is complete.
    assert precision_at_k(SCORES, LABELS, 100) == 0.5
    assert recall_at_k(SCORES, LABELS, 100) == 1.0
    assert value_captured_at_k(SCORES, LABELS, VALUES, 100) == 1.0


def test_recall_within_top_fraction_hand_computed():
    # ceil(0.5 * 6) = 3 series -> 2 of 3 positives.
    assert recall_within_top_fraction(SCORES, LABELS, 0.5) == pytest.approx(2 / 3)
    # ceil(0.1 * 6) = ceil(0.6) = 1 series -> 1 of 3.
    assert recall_within_top_fraction(SCORES, LABELS, 0.1) == pytest.approx(1 / 3)
    assert recall_within_top_fraction(SCORES, LABELS, 1.0) == 1.0


def test_recall_within_top_fraction_ignores_float_noise():
    # 0.07 * 100 is 7.000000000000001 in floating point; the top 7%, not 8, is meant.
    labels = np.zeros(100)
    labels[7] = 1
    scores = -np.arange(100.0)  # position i ranks i-th
    assert recall_within_top_fraction(scores, labels, 0.07) == 0.0
    assert recall_within_top_fraction(scores, labels, 0.08) == 1.0


def test_value_captured_at_k_hand_computed():
    # Top 3 hold positives worth 100 + 50 = 150 of 180.
    assert value_captured_at_k(SCORES, LABELS, VALUES, 3) == pytest.approx(150 / 180)
    # Top 1 holds 100 of 180.
    assert value_captured_at_k(SCORES, LABELS, VALUES, 1) == pytest.approx(100 / 180)


def test_average_precision_hand_computed():
    # Thresholds (ties and NaN each one group), cumulative hits / series, recall:
    #   0.9        1/1  recall 1/3
    #   0.8, 0.8   2/3  recall 2/3
    #   0.5        2/4  recall 2/3
    #   0.1        2/5  recall 2/3
    #   NaN        3/6  recall 1
    # AP = 1/3 * 1 + 1/3 * 2/3 + 1/3 * 1/2 = 13/18
    assert average_precision(SCORES, LABELS) == pytest.approx(13 / 18)


def test_average_precision_nan_ranks_like_a_score_below_all_others():
    finite = np.where(np.isnan(SCORES), -1.0, SCORES)
    assert average_precision(SCORES, LABELS) == pytest.approx(
        average_precision_score(LABELS, finite)
    )


@pytest.mark.parametrize("seed", range(20))
def test_average_precision_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    labels = rng.random(n) < rng.uniform(0.01, 0.5)
    labels[rng.integers(n)] = True
    scores = rng.normal(size=n) + labels * rng.uniform(0, 2)
    if seed % 2:
        scores = np.round(scores, 1)  # many ties
    assert average_precision(scores, labels) == pytest.approx(
        average_precision_score(labels, scores), rel=1e-12, abs=1e-15
    )


def test_ties_keep_input_order():
    # Equal scores: the first series in the input ranks first, on every run.
    assert precision_at_k([0.5, 0.5], [0, 1], 1) == 0.0
    assert precision_at_k([0.5, 0.5], [1, 0], 1) == 1.0
    assert precision_at_k(np.zeros(1000), np.arange(1000) == 999, 999) == 0.0


def test_average_precision_does_not_depend_on_tie_order():
    # One threshold holding both series: precision 1/2 at recall 1.
    assert average_precision([0.5, 0.5], [0, 1]) == 0.5
    assert average_precision([0.5, 0.5], [1, 0]) == 0.5


def test_nan_scores_rank_last_even_below_minus_infinity():
    scores = [np.nan, -np.inf, np.nan, 0.0]
    # Ranking: 3 (0.0), 1 (-inf), 0 (NaN), 2 (NaN).
    assert precision_at_k(scores, [0, 1, 0, 0], 2) == 0.5
    assert precision_at_k(scores, [1, 0, 0, 0], 2) == 0.0
    assert recall_at_k(scores, [1, 0, 0, 0], 3) == 1.0
    assert recall_at_k(scores, [0, 0, 1, 0], 3) == 0.0


def test_boolean_and_float_labels_are_accepted():
    assert precision_at_k(SCORES, LABELS.astype(bool), 3) == precision_at_k(SCORES, LABELS, 3)
    assert precision_at_k(SCORES, LABELS.astype(float), 3) == precision_at_k(SCORES, LABELS, 3)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="scores has 6 entries but labels has 5"):
        precision_at_k(SCORES, LABELS[:5], 1)
    with pytest.raises(ValueError, match=r"values has shape \(5,\) but labels has \(6,\)"):
        value_captured_at_k(SCORES, LABELS, VALUES[:5], 1)


@pytest.mark.parametrize("k", [0, -3])
def test_k_below_one_is_refused(k):
    with pytest.raises(ValueError, match="k must be at least 1"):
        precision_at_k(SCORES, LABELS, k)


@pytest.mark.parametrize("fraction", [0.0, 1.5, -0.1])
def test_fraction_outside_unit_interval_is_refused(fraction):
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        recall_within_top_fraction(SCORES, LABELS, fraction)


@pytest.mark.parametrize(
    "metric",
    [
        lambda s, y: recall_at_k(s, y, 2),
        lambda s, y: recall_within_top_fraction(s, y, 0.5),
        lambda s, y: value_captured_at_k(s, y, np.ones(len(y)), 2),
        average_precision,
        detection_report,
    ],
)
def test_metrics_needing_positives_refuse_none(metric):
    with pytest.raises(DataError, match="labels has no positive series"):
        metric([0.3, 0.2, 0.1], [0, 0, 0])


def test_precision_is_defined_without_positives():
    assert precision_at_k([0.3, 0.2, 0.1], [0, 0, 0], 2) == 0.0


def test_labels_other_than_zero_one_are_refused():
    with pytest.raises(ValueError, match="labels has values other than 0 and 1: 2"):
        precision_at_k([0.3, 0.2], [0, 2], 1)
    with pytest.raises(ValueError, match="labels has values other than 0 and 1: nan"):
        precision_at_k([0.3, 0.2], [0.0, np.nan], 1)


def test_invalid_planted_values_are_refused():
    with pytest.raises(DataError, match=r"negative or not finite at position\(s\) 4"):
        value_captured_at_k(SCORES, LABELS, [100, 0, 50, 0, np.nan, 0], 1)
    with pytest.raises(DataError, match="values of all positive series are 0"):
        value_captured_at_k(SCORES, LABELS, [0, 5, 0, 0, 0, 0], 1)


def test_empty_input_is_refused():
    with pytest.raises(DataError, match="empty"):
        precision_at_k([], [], 1)


def test_alert_rate_hand_computed():
    assert alert_rate([True, False, False, True]) == 0.5
    # Series × months: the first series alerts once, the second never -> 1/2.
    assert alert_rate([[0, 0, 1], [0, 0, 0]]) == 0.5
    assert alert_rate(np.zeros((3, 4), dtype=bool)) == 0.0


def test_alert_rate_refuses_empty_and_non_binary():
    with pytest.raises(DataError, match="non-empty"):
        alert_rate([])
    with pytest.raises(DataError, match="alerts has values other than 0 and 1"):
        alert_rate([0.2, 0.9])


def test_detection_delay_hand_computed():
    alerts = np.array(
        [
            [0, 1, 0, 0, 1],  # onset 2: the alert at 1 is before onset; next at 4 -> 2
            [0, 0, 1, 0, 0],  # onset 2: alert in the onset month -> 0
            [1, 0, 0, 0, 0],  # onset 1: nothing at or after it -> NaN
        ],
        dtype=bool,
    )
    np.testing.assert_array_equal(detection_delay(alerts, [2, 2, 1]), [2.0, 0.0, np.nan])


def test_detection_delay_single_onset_for_all_rows():
    np.testing.assert_array_equal(
        detection_delay([[0, 0, 1, 1], [1, 1, 1, 1]], onset_index=1), [1.0, 0.0]
    )


def test_detection_delay_refuses_bad_onsets():
    alerts = np.zeros((2, 4), dtype=bool)
    with pytest.raises(DataError, match=r"outside the 4 months of alert_matrix for row\(s\) 1"):
        detection_delay(alerts, [0, 4])
    with pytest.raises(DataError, match="one onset per row"):
        detection_delay(alerts, [0, 1, 2])
    with pytest.raises(DataError, match="onset_index has dtype float64"):
        detection_delay(alerts, [0.0, np.nan])
    with pytest.raises(DataError, match="2-D array"):
        detection_delay([0, 1], 0)


def test_detection_report_collects_the_metrics():
    report = detection_report(SCORES, LABELS, VALUES, k=(1, 3), fraction=0.5)
    assert report == pytest.approx(
        {
            "n_series": 6.0,
            "n_positives": 3.0,
            "average_precision": 13 / 18,
            "precision@1": 1.0,
            "recall@1": 1 / 3,
            "value_captured@1": 100 / 180,
            "precision@3": 2 / 3,
            "recall@3": 2 / 3,
            "value_captured@3": 150 / 180,
            "recall@top50%": 2 / 3,
        }
    )
    assert all(type(value) is float for value in report.values())


def test_detection_report_defaults_without_values():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=500)
    labels = rng.random(500) < 0.05
    report = detection_report(scores, labels)
    assert set(report) == {
        "n_series",
        "n_positives",
        "average_precision",
        "precision@10",
        "recall@10",
        "precision@50",
        "recall@50",
        "precision@100",
        "recall@100",
        "recall@top2%",
    }
    assert report["precision@50"] == precision_at_k(scores, labels, 50)
    assert report["recall@top2%"] == recall_at_k(scores, labels, 10)
