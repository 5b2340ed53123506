"""Measure a leads table against planted labels (from :mod:`anomaly.simulate`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.errors import DataError
from anomaly.evaluate.detection_metrics import alert_rate, detection_report
from anomaly.schema import SERIES_KEY_COLUMNS


def label_leads(leads: pd.DataFrame, labels: pd.DataFrame) -> pd.Series:
    """Boolean per lead: is the series a planted evasion series?

    ``labels`` has the key columns and a boolean ``evasion`` column (decoys are
    labelled with ``evasion`` False and count as negatives, like every unlabelled
    series).
    """
    missing = [c for c in (*SERIES_KEY_COLUMNS, "evasion") if c not in labels.columns]
    if missing:
        raise DataError(
            f"labels lack columns {missing}", expected="labels.csv of `anomaly simulate`"
        )
    positive = labels.loc[
        labels["evasion"].astype(bool), list(SERIES_KEY_COLUMNS)
    ].drop_duplicates()
    positive = positive.assign(_positive=True)
    joined = leads[list(SERIES_KEY_COLUMNS)].merge(
        positive, how="left", on=list(SERIES_KEY_COLUMNS)
    )
    return joined["_positive"].notna().set_axis(leads.index)


def evaluate_leads(
    leads: pd.DataFrame, labels: pd.DataFrame, k: tuple[int, ...] = (10, 50, 100)
) -> dict[str, float]:
    """Detection metrics of a leads table: precision/recall@k, AUC-PR, value captured.

    Examples
    --------
    >>> leads = pd.DataFrame({"rank": [1, 2], "reporter": ["A", "B"], "partner": ["X", "X"],
    ...     "flow": ["export"] * 2, "hs": ["1", "1"], "score": [3.0, 1.0],
    ...     "alert": [True, False], "excess_value": [5.0, 0.0]})
    >>> labels = pd.DataFrame({"reporter": ["A"], "partner": ["X"], "flow": ["export"],
    ...     "hs": ["1"], "evasion": [True]})
    >>> evaluate_leads(leads, labels, k=(1,))["precision@1"]
    1.0
    """
    positive = label_leads(leads, labels).to_numpy()
    if not positive.any():
        raise DataError("none of the labelled evasion series is among the leads")
    values = np.where(positive, leads["excess_value"].clip(lower=0).to_numpy(), 0.0)
    # Evaluate the ranking users see (leads in rank order), not the raw score alone:
    # out-of-scope series are ranked after every in-scope one whatever their score.
    ranking = -leads["rank"].to_numpy(np.float64)
    report = detection_report(ranking, positive, values=values if values.any() else None, k=k)
    report["alert_rate"] = alert_rate(leads["alert"].to_numpy())
    report["recall_of_alerts"] = float(leads["alert"].to_numpy()[positive].mean())
    report["precision_of_alerts"] = (
        float(positive[leads["alert"].to_numpy()].mean()) if leads["alert"].any() else float("nan")
    )
    return report
