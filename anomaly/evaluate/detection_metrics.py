"""How well a ranking of series finds the planted evasion.

``scores`` hold one score per series, higher = more anomalous (the package's single
score direction); ``labels`` mark the series with planted evasion (1) and the rest (0).
An analyst reads leads from the top, so most metrics look at the top ``k`` of the
ranking. The ranking is deterministic:

- scores are sorted from highest to lowest;
- equal scores keep their input order (a stable sort), so a tie never changes between
  runs and never depends on the platform;
- NaN scores (series a detector could not score) rank last, in input order.

:func:`average_precision` is the exception: like scikit-learn it treats a group of
equal scores as one threshold, so its value does not depend on how ties are ordered.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anomaly.errors import DataError, describe_items

__all__ = [
    "alert_rate",
    "average_precision",
    "detection_delay",
    "detection_report",
    "precision_at_k",
    "recall_at_k",
    "recall_within_top_fraction",
    "value_captured_at_k",
]


def precision_at_k(scores: ArrayLike, labels: ArrayLike, k: int) -> float:
    """Fraction of the top ``k`` series that carry planted evasion.

    Parameters
    ----------
    scores : array_like, shape (n_series,)
        Higher = more anomalous; NaN ranks last.
    labels : array_like of {0, 1} or bool, shape (n_series,)
        1 for a series with planted evasion.
    k : int
        Number of top-ranked series looked at, at least 1. A ``k`` above ``n_series`` is
        clipped to ``n_series``: the analyst can only read the leads there are.

    Returns
    -------
    float

    Examples
    --------
    >>> precision_at_k([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1], k=2)
    0.5
    """
    ranked = _ranked_labels(*_check_scores_labels(scores, labels))
    k = _check_k(k, ranked.size)
    return float(ranked[:k].sum() / k)


def recall_at_k(scores: ArrayLike, labels: ArrayLike, k: int) -> float:
    """Fraction of the series with planted evasion that rank in the top ``k``.

    Parameters
    ----------
    scores : array_like, shape (n_series,)
        Higher = more anomalous; NaN ranks last.
    labels : array_like of {0, 1} or bool, shape (n_series,)
        1 for a series with planted evasion; at least one is required.
    k : int
        Number of top-ranked series looked at, at least 1 (clipped to ``n_series``).

    Returns
    -------
    float

    Examples
    --------
    >>> recall_at_k([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1], k=2)
    0.5
    """
    scores, labels = _check_scores_labels(scores, labels)
    _require_positives(labels, "recall")
    ranked = _ranked_labels(scores, labels)
    return _recall(ranked, _check_k(k, ranked.size))


def recall_within_top_fraction(scores: ArrayLike, labels: ArrayLike, fraction: float) -> float:
    """Recall within the top ``fraction`` of all series.

    The number of series looked at is ``k = ceil(fraction * n_series)``, at least 1, so
    the metric keeps its meaning as the panel grows (e.g. "the top 2% of flows").

    Parameters
    ----------
    scores : array_like, shape (n_series,)
        Higher = more anomalous; NaN ranks last.
    labels : array_like of {0, 1} or bool, shape (n_series,)
        1 for a series with planted evasion; at least one is required.
    fraction : float
        Share of the ranking looked at, in (0, 1].

    Returns
    -------
    float

    Examples
    --------
    >>> # ceil(0.5 * 4) = 2 series looked at; they hold 1 of the 2 positives.
    >>> recall_within_top_fraction([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1], fraction=0.5)
    0.5
    """
    scores, labels = _check_scores_labels(scores, labels)
    _require_positives(labels, "recall")
    ranked = _ranked_labels(scores, labels)
    return _recall(ranked, _fraction_to_k(fraction, ranked.size))


def value_captured_at_k(scores: ArrayLike, labels: ArrayLike, values: ArrayLike, k: int) -> float:
    """Share of the planted excess value that sits in the top ``k`` series.

    ``sum(values of positives in the top k) / sum(values of all positives)``: a lead
    list that finds the few large schemes scores higher than one that finds many small
    ones, which matters when enforcement time is scarce.

    Parameters
    ----------
    scores : array_like, shape (n_series,)
        Higher = more anomalous; NaN ranks last.
    labels : array_like of {0, 1} or bool, shape (n_series,)
        1 for a series with planted evasion; at least one is required.
    values : array_like, shape (n_series,)
        Excess value planted in each series. Only the positives' values are used; they
        must be finite, >= 0 and not all 0. Negatives' values are ignored (may be NaN).
    k : int
        Number of top-ranked series looked at, at least 1 (clipped to ``n_series``).

    Returns
    -------
    float

    Examples
    --------
    >>> # The top 2 hold the positive worth 300 of the 300 + 100 planted.
    >>> value_captured_at_k([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1], [300, 0, 0, 100], k=2)
    0.75
    """
    scores, labels = _check_scores_labels(scores, labels)
    values = _check_values(values, labels)
    return _value_captured(_ranking(scores), labels, values, _check_k(k, scores.size))


def average_precision(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the precision-recall curve, as average precision.

    ``AP = sum_n (R_n - R_{n-1}) * P_n`` over the distinct score thresholds from the
    highest down, where ``P_n`` and ``R_n`` are precision and recall of the series scoring
    at least the ``n``-th threshold. This is the same step-wise estimate as
    :func:`sklearn.metrics.average_precision_score` (no interpolation) and equals it on
    any input scikit-learn accepts. Tied scores form one threshold, so ties do not
    depend on input order. NaN scores form a last threshold below every other score.

    Parameters
    ----------
    scores : array_like, shape (n_series,)
        Higher = more anomalous; NaN ranks last.
    labels : array_like of {0, 1} or bool, shape (n_series,)
        1 for a series with planted evasion; at least one is required.

    Returns
    -------
    float
        Between the share of positives (a random ranking, in expectation) and 1.

    Examples
    --------
    >>> # Thresholds 0.9, 0.7, 0.4: recall steps of 1/2 at precision 1 and 2/3.
    >>> round(average_precision([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1]), 4)
    0.8333
    """
    scores, labels = _check_scores_labels(scores, labels)
    _require_positives(labels, "average precision")
    return _average_precision(scores, labels)


def alert_rate(alerts: ArrayLike) -> float:
    """Fraction of series with at least one alert.

    On a placebo window, where no evasion was planted, this is the false-alarm rate.

    Parameters
    ----------
    alerts : array_like of bool or {0, 1}, shape (n_series,) or (n_series, n_months)
        Whether each series (or each series-month) was alerted. A series counts as
        alerted when any of its months is.

    Returns
    -------
    float

    Examples
    --------
    >>> alert_rate([[False, True, False], [False, False, False]])
    0.5
    """
    alerted = _as_binary(alerts, "alerts")
    if alerted.ndim not in (1, 2) or alerted.shape[0] == 0:
        raise DataError(
            f"alerts has shape {alerted.shape}",
            expected="a non-empty 1-D (series) or 2-D (series × months) array",
        )
    if alerted.ndim == 2:
        alerted = alerted.any(axis=1)
    return float(alerted.mean())


def detection_delay(alert_matrix: ArrayLike, onset_index: ArrayLike | int) -> NDArray[np.float64]:
    """Months from the onset of planted evasion to its first alert, per positive series.

    Alerts before the onset are ignored: they are false alarms, not early detection.

    Parameters
    ----------
    alert_matrix : array_like of bool or {0, 1}, shape (n_positive, n_months)
        Alerts of the series with planted evasion, one row per series; pass
        ``alerts[labels == 1]`` to evaluate a whole panel.
    onset_index : int or array_like of int, shape (n_positive,)
        Column of ``alert_matrix`` where each series' evasion starts, in
        ``[0, n_months)``; one int applies to every row.

    Returns
    -------
    ndarray of float64, shape (n_positive,)
        0 when the alert comes in the onset month; NaN when no alert comes at or after it.

    Examples
    --------
    >>> alerts = [[0, 1, 0, 0, 1], [0, 0, 1, 0, 0], [1, 0, 0, 0, 0]]
    >>> detection_delay(alerts, onset_index=[2, 2, 1])
    array([ 2.,  0., nan])
    """
    alerts = _as_binary(alert_matrix, "alert_matrix")
    if alerts.ndim != 2:
        raise DataError(
            f"alert_matrix has {alerts.ndim} dimension(s)",
            expected="a 2-D array (positive series × months)",
        )
    n_series, n_months = alerts.shape
    onset = np.asarray(onset_index)
    if not np.issubdtype(onset.dtype, np.integer):
        raise DataError(f"onset_index has dtype {onset.dtype}", expected="integer month positions")
    if onset.ndim == 0:
        onset = np.full(n_series, onset)
    if onset.shape != (n_series,):
        raise DataError(
            f"onset_index has shape {onset.shape} but alert_matrix has {n_series} series",
            expected="one onset per row of alert_matrix, or a single int",
        )
    outside = np.flatnonzero((onset < 0) | (onset >= n_months))
    if outside.size:
        raise DataError(
            f"onset_index outside the {n_months} months of alert_matrix for row(s) "
            f"{describe_items(outside)}",
            expected=f"0 <= onset_index < {n_months}",
        )
    after_onset = alerts & (np.arange(n_months) >= onset[:, np.newaxis])
    first = after_onset.argmax(axis=1)
    return np.where(after_onset.any(axis=1), first - onset, np.nan).astype(np.float64)


def detection_report(
    scores: ArrayLike,
    labels: ArrayLike,
    values: ArrayLike | None = None,
    k: Sequence[int] = (10, 50, 100),
    fraction: float = 0.02,
) -> dict[str, float]:
    """The ranking metrics of this module for one run, as a flat dict.

    Parameters
    ----------
    scores : array_like, shape (n_series,)
        Higher = more anomalous; NaN ranks last.
    labels : array_like of {0, 1} or bool, shape (n_series,)
        1 for a series with planted evasion; at least one is required.
    values : array_like, shape (n_series,), optional
        Planted excess value per series; adds ``value_captured@k`` entries.
    k : sequence of int, default (10, 50, 100)
        Cut-offs for the ``@k`` metrics (each clipped to ``n_series``).
    fraction : float, default 0.02
        Share of the ranking for ``recall@top{100 * fraction}%``.

    Returns
    -------
    dict of str to float
        ``n_series``, ``n_positives``, ``average_precision``, then ``precision@k``,
        ``recall@k`` (and ``value_captured@k``) for each ``k``, then the fraction recall.

    Examples
    --------
    >>> report = detection_report([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1], k=(1, 2), fraction=0.5)
    >>> report["precision@2"], report["recall@top50%"]
    (0.5, 0.5)
    """
    scores, labels = _check_scores_labels(scores, labels)
    _require_positives(labels, "the detection report")
    if values is not None:
        values = _check_values(values, labels)
    order = _ranking(scores)
    ranked = labels[order]
    report = {
        "n_series": float(labels.size),
        "n_positives": float(labels.sum()),
        "average_precision": _average_precision(scores, labels),
    }
    for cutoff in k:
        top = _check_k(cutoff, labels.size)
        report[f"precision@{cutoff}"] = float(ranked[:top].sum() / top)
        report[f"recall@{cutoff}"] = _recall(ranked, top)
        if values is not None:
            report[f"value_captured@{cutoff}"] = _value_captured(order, labels, values, top)
    report[f"recall@top{100 * fraction:g}%"] = _recall(
        ranked, _fraction_to_k(fraction, labels.size)
    )
    return report


def _ranking(scores: NDArray[np.float64]) -> NDArray[np.intp]:
    # Negating keeps NaN as NaN, which numpy sorts last; the stable sort keeps ties in
    # input order.
    return np.argsort(-scores, kind="stable")


def _ranked_labels(scores: NDArray[np.float64], labels: NDArray[np.bool_]) -> NDArray[np.bool_]:
    return labels[_ranking(scores)]


def _recall(ranked: NDArray[np.bool_], k: int) -> float:
    return float(ranked[:k].sum() / ranked.sum())


def _value_captured(
    order: NDArray[np.intp], labels: NDArray[np.bool_], values: NDArray[np.float64], k: int
) -> float:
    positive_values = np.where(labels, values, 0.0)
    return float(positive_values[order[:k]].sum() / positive_values.sum())


def _average_precision(scores: NDArray[np.float64], labels: NDArray[np.bool_]) -> float:
    order = _ranking(scores)
    ranked_scores = scores[order]
    hits = np.cumsum(labels[order])
    both_nan = np.isnan(ranked_scores[1:]) & np.isnan(ranked_scores[:-1])
    new_threshold_next = (ranked_scores[1:] != ranked_scores[:-1]) & ~both_nan
    # The last series of each group of equal scores closes one threshold.
    ends = np.append(np.flatnonzero(new_threshold_next), scores.size - 1)
    true_positives = hits[ends]
    precision = true_positives / (ends + 1)
    recall = true_positives / hits[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def _check_scores_labels(
    scores: ArrayLike, labels: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    scores = np.asarray(scores, dtype=np.float64)
    labels = _as_binary(labels, "labels")
    if scores.ndim != 1 or labels.ndim != 1:
        raise DataError(
            f"scores has shape {scores.shape} and labels {labels.shape}",
            expected="1-D arrays, one entry per series",
        )
    if scores.size != labels.size:
        raise DataError(
            f"scores has {scores.size} entries but labels has {labels.size}",
            expected="one score and one label per series, in the same order",
        )
    if scores.size == 0:
        raise DataError("scores and labels are empty", expected="at least one series")
    return scores, labels


def _as_binary(values: ArrayLike, name: str) -> NDArray[np.bool_]:
    array = np.asarray(values)
    if array.dtype == np.bool_:
        return array
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{name} has dtype {array.dtype}", expected="booleans or 0/1")
    invalid = ~np.isin(array, (0, 1))
    if invalid.any():
        raise DataError(
            f"{name} has values other than 0 and 1: {describe_items(np.unique(array[invalid]))}",
            expected="booleans or 0/1 (1 = planted evasion or alert)",
        )
    return array == 1


def _require_positives(labels: NDArray[np.bool_], metric: str) -> None:
    if not labels.any():
        raise DataError(
            f"labels has no positive series, so {metric} is undefined",
            expected="at least one label 1 (planted evasion); use alert_rate for placebo runs",
        )


def _check_values(values: ArrayLike, labels: NDArray[np.bool_]) -> NDArray[np.float64]:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != labels.shape:
        raise DataError(
            f"values has shape {values.shape} but labels has {labels.shape}",
            expected="one planted value per series, in the same order",
        )
    _require_positives(labels, "value captured")
    positive_values = values[labels]
    bad = np.flatnonzero(labels)[~(np.isfinite(positive_values) & (positive_values >= 0))]
    if bad.size:
        raise DataError(
            f"values of positive series are negative or not finite at position(s) "
            f"{describe_items(bad)}",
            expected="finite planted excess values >= 0",
        )
    if positive_values.sum() == 0:
        raise DataError(
            "values of all positive series are 0, so value captured is undefined",
            expected="the planted excess value of each positive series",
        )
    return values


def _check_k(k: int, n_series: int) -> int:
    k = operator.index(k)
    if k < 1:
        raise ValueError(f"k must be at least 1 (the number of top-ranked series); got {k}")
    return min(k, n_series)


def _fraction_to_k(fraction: float, n_series: int) -> int:
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], e.g. 0.02 for the top 2%; got {fraction!r}")
    # Rounding first keeps float noise (0.07 * 100 = 7.000000000000001) from adding a series.
    return max(1, math.ceil(round(fraction * n_series, 9)))
