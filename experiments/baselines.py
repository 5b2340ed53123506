"""The baselines analysts use, for the detection experiments to rank beside the package.

Shared by ``detection_quality.py`` and ``generalisation.py``: every method ranks the
same series, in-scope series first, so the comparisons measure the statistics, not
the scope.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest


def ranked_by(leads: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    """The leads re-ranked by another method's score, in-scope series first; ties (many
    series share a growth ratio) are broken by the series' keys, never by the package's
    own order."""
    table = leads.assign(_score=np.nan_to_num(score, nan=-np.inf))
    order = ["in_scope", "_score", "reporter", "partner", "flow", "hs"]
    table = table.sort_values(order, ascending=[False, False, True, True, True, True])
    return table.assign(rank=np.arange(1, len(table) + 1), score=table["_score"])


def prewar_mean_growth(train: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Window mean over the pre-war mean (the published analyses' ratio)."""
    floor = np.median(train[train > 0]) * 1e-3
    return (window.mean(axis=1) + floor) / (train.mean(axis=1) + floor)


def isolation_forest_on_growth(growth: np.ndarray, seed: int = 0) -> np.ndarray:
    """Isolation forest on the log growth alone, rising flows only.

    The forest grows on the values sorted, so its subsamples (drawn by row position)
    do not depend on the order the rows come in (the package's ranking)."""
    feature = np.log(growth)[:, None]
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(np.sort(feature, axis=0))
    isolation = -forest.score_samples(feature)
    return np.where(feature[:, 0] > 0, isolation, -np.inf)


def interval_rule(train: np.ndarray, window: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Months above AutoETS's 90% upper bound (ties: by excess over the bound)."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    score = np.full(len(train), -np.inf)
    n, t = train[rows].shape
    horizon = window.shape[1]
    dates = pd.date_range("2015-01-01", periods=t, freq="MS")
    long = pd.DataFrame(
        {"unique_id": np.repeat(rows, t), "ds": np.tile(dates, n), "y": train[rows].ravel()}
    )
    fitted = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fitted.forecast(df=long, h=horizon, level=[90]).sort_values(["unique_id", "ds"])
    upper = result["AutoETS-hi-90"].to_numpy().reshape(n, horizon)
    above = window[rows] > upper
    excess = np.where(above, window[rows] - upper, 0.0).sum(axis=1)
    score[rows] = above.sum(axis=1) + excess / (1 + excess.max())
    return score


def statsforecast_installed() -> bool:
    """Whether the AutoETS baseline can run."""
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True
