"""The default forecaster: a vectorised log-normal hurdle model with pooled priors.

Why this model. Monthly bilateral trade in one HS6 product is a few large shipments
with multiplicative noise of 50–150% and many months with no trade declared. Per-series
ETS fits little more than the pre-war mean on such data (and AutoETS does worse than the
mean), so the gains lie in *pooling*: a month with no trade is an event with its own
probability; the size of a month's trade is log-normal around a robust, recency-weighted
level; the seasonal profile, the noise level and the occurrence rate are learned from
similar flows and each series' own estimate is shrunk towards them by how much data it
has. The whole panel is fitted as a few passes over one matrix, in chunks of series so
memory stays bounded; no Python code runs per series.

Model for series ``i`` in month ``t`` after the training window (horizon ``h``)::

    P(no trade) = 1 - p_i
    log(value) | trade ~ Normal(level_i + trend_i · Σ_{j≤h} φ^j + season_i[month(t)],
                                c² · σ²_i · (1 + 1/n_i))

- ``p_i``: recency-weighted share of months with trade, shrunk to its group's share
  (Beta prior of ``occurrence_strength`` months).
- ``level_i``: recency-weighted (half-life ``half_life`` months) mean of the
  deseasonalised log values, with Huber weights so a COVID-like dip or a one-off
  contract does not drag it.
- ``trend_i``: weighted least-squares slope, shrunk to zero unless it is clearly
  estimated (|t| well above 2) and damped by ``φ = damping`` per month, so pre-war growth
  cannot explode over a two-year horizon.
- ``season_i``: the series' own monthly means shrunk to its group's profile (groups =
  ``pool_by`` key columns), itself shrunk to the global profile.
- ``σ²_i``: the series' residual variance combined with a prior that depends on the
  flow's size and group (small flows are noisier), ``scale_strength`` pseudo-months.
- ``c``: one calibration factor set so that the ``calibration_coverage`` interval
  covers that share of held-out months at the end of the training window (a
  split-sample, conformal-style step). ``1 + 1/n_i`` adds the level's own uncertainty.

A series with no trade at all in the training window gets the priors: ``p`` from its
group, size and noise from flows that traded only sporadically, so its expected value
is small and its band comes from similar series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.forecast.distribution import ErrorShape, HurdleLogForecast

#: Per-series fitted numbers (``state_`` arrays of length ``n_series``).
SERIES_STATE = ("p_nonzero", "level", "trend", "variance", "n_effective", "n_nonzero")


class PooledForecaster(Forecaster):
    """Vectorised hurdle log-normal forecaster with pooled seasonality, noise and occurrence.

    Parameters
    ----------
    half_life : float
        Months after which a training month's weight halves (recency weighting).
    damping : float
        Per-month damping ``φ`` of the trend, in [0, 1); 0 disables the trend.
    trend_threshold : float
        A slope is kept only in proportion to how far its t statistic exceeds this.
    seasonal_strength : float
        Pseudo-observations (per calendar month) of the pooled seasonal profile when
        combined with a series' own monthly means.
    occurrence_strength : float or "auto"
        Pseudo-months of the group's occurrence rate in each series' rate; ``"auto"``
        estimates it from how much the rates differ across series (empirical Bayes).
    scale_strength : float
        Pseudo-months (degrees of freedom) of the pooled noise level.
    smearing_strength : float
        Pseudo-months of the pooled smearing factor (mean over median of a month's
        trade) in each series' own factor.
    pool_by : tuple of str
        Key columns that define the groups sharing priors.
    calibrate : bool
        Set the interval scale factor ``c`` on held-out months of the training window.
    calibration_coverage : float
        Interval coverage that calibration targets.
    chunk_size : int
        Series per pass; bounds memory, results do not depend on it.

    Examples
    --------
    >>> from anomaly.panel import Panel
    >>> rng = np.random.default_rng(0)
    >>> keys = pd.DataFrame({"reporter": ["DEU"] * 50, "partner": ["KGZ"] * 50,
    ...                      "flow": ["export"] * 50, "hs": [f"{i:06d}" for i in range(50)]})
    >>> values = np.exp(rng.normal(10, 0.5, size=(50, 48)))
    >>> panel = Panel(keys, pd.period_range("2018-01", periods=48, freq="M"), values)
    >>> model = PooledForecaster().fit(panel)
    >>> forecast = model.predict("2022-01", "2022-12")
    >>> forecast.mean.shape
    (50, 12)
    """

    def __init__(
        self,
        half_life: float = 12.0,
        damping: float = 0.9,
        trend_threshold: float = 2.0,
        seasonal_strength: float = 4.0,
        occurrence_strength: float | str = "auto",
        scale_strength: float = 4.0,
        smearing_strength: float = 4.0,
        pool_by: tuple[str, ...] = ("reporter", "flow"),
        calibrate: bool = True,
        calibration_coverage: float = 0.9,
        chunk_size: int = 100_000,
    ) -> None:
        self.half_life = half_life
        self.damping = damping
        self.trend_threshold = trend_threshold
        self.seasonal_strength = seasonal_strength
        self.occurrence_strength = occurrence_strength
        self.scale_strength = scale_strength
        self.smearing_strength = smearing_strength
        self.pool_by = pool_by
        self.calibrate = calibrate
        self.calibration_coverage = calibration_coverage
        self.chunk_size = chunk_size

    def fit(self, panel, train_start=None, train_end=None):
        keys = panel.keys
        missing = [c for c in self.pool_by if c not in keys.columns]
        if missing:
            raise ValueError(f"pool_by names columns {missing} that the panel keys lack")
        self._groups = (
            keys.groupby(list(self.pool_by), sort=True, observed=True).ngroup().to_numpy()
            if self.pool_by
            else np.zeros(len(keys), dtype=np.int64)
        )
        return super().fit(panel, train_start, train_end)

    # -- fitting -------------------------------------------------------------------

    def _fit(self, values: np.ndarray, periods: pd.PeriodIndex) -> None:
        groups = self._groups
        n_groups = int(groups.max()) + 1 if len(groups) else 0
        holdout = _holdout_length(len(periods))
        shape, scale_factor = None, 1.0
        if self.calibrate and holdout:
            inner = _fit_state(self, values[:, :-holdout], periods[:-holdout], groups, n_groups)
            held_out = _calibration_rows(len(values))
            forecast = _forecast(inner, np.arange(1, holdout + 1), periods[-holdout:], held_out)
            actual = values[held_out, -holdout:]
            shape = _error_shape(forecast, actual)
            forecast.shape = shape
            scale_factor = _calibrated_scale(forecast, actual, self.calibration_coverage)
        self.state_ = _fit_state(self, values, periods, groups, n_groups)
        self.state_["scale_factor"] = np.array(scale_factor)
        self.state_["error_shape"] = shape.table if shape is not None else np.array([])
        self.series_info_ = _series_info(self.state_)

    def _predict(self, periods, horizons, series):
        forecast = _forecast(self.state_, horizons, periods, series)
        table = self.state_["error_shape"]
        forecast.shape = ErrorShape(table) if table.size else None
        forecast.scale = forecast.scale * float(self.state_["scale_factor"])
        return forecast


def _holdout_length(n_months: int) -> int:
    """Months held out for calibration: a quarter of the window, 3 to 12; none if short."""
    if n_months < 12:
        return 0
    return int(np.clip(n_months // 4, 3, 12))


def _fit_state(
    params: PooledForecaster,
    values: np.ndarray,
    periods: pd.PeriodIndex,
    groups: np.ndarray,
    n_groups: int,
) -> dict[str, np.ndarray]:
    """All fitted numbers for ``values``: per-series arrays and pooled tables."""
    n_series, n_months = values.shape
    months = periods.month.to_numpy() - 1
    recency = 0.5 ** ((n_months - 1 - np.arange(n_months)) / params.half_life)
    chunks = [slice(lo, lo + params.chunk_size) for lo in range(0, n_series, params.chunk_size)]

    # Pass 1: each series' monthly deviations from its robust level, to pool seasonality.
    first = [_monthly_deviations(values[c], recency, months) for c in chunks]
    month_sum = np.concatenate([f[0] for f in first])
    month_count = np.concatenate([f[1] for f in first])
    season = _pooled_seasonality(month_sum, month_count, groups, n_groups, params.seasonal_strength)

    # Pass 2: deseasonalised level, trend and noise per series.
    per_series = [_level_trend_noise(values[c], recency, season[c], months, params) for c in chunks]
    state = {name: np.concatenate([part[name] for part in per_series]) for name in per_series[0]}

    occurrence_prior = _group_mean(state["p_raw"], groups, n_groups)
    weight = state.pop("n_weighted")
    strength = params.occurrence_strength
    if strength == "auto":
        strength = _beta_prior_strength(state["p_raw"], weight)
    state["occurrence_strength"] = np.array(strength)
    state["p_nonzero"] = (
        weight * state.pop("p_raw") + strength * occurrence_prior[groups]
    ) / (weight + strength)

    _pool_sizes_and_noise(state, groups, n_groups, params.scale_strength)
    _pool_smearing(state, params.smearing_strength)
    state["season"] = season.astype(np.float32)
    state["damping"] = np.array(params.damping)
    state["new_series"] = _new_series_prior(state, occurrence_prior)
    return state


def _monthly_deviations(
    values: np.ndarray, recency: np.ndarray, months: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per calendar month, sums and counts of log values' deviations from a robust level."""
    traded = values > 0
    logs = np.log(np.where(traded, values, 1.0))
    weights = traded * recency
    level = _weighted_mean(logs, weights)
    residual = np.where(traded, logs - level[:, None], 0.0)
    huber = _huber_weights(residual, weights)
    level = _weighted_mean(logs, weights * huber)
    residual = np.where(traded, logs - level[:, None], 0.0)
    kept = traded * huber
    indicator = np.eye(12)[months]  # (n_months, 12): calendar month of each column
    return (residual * kept) @ indicator, kept @ indicator


def _huber_weights(residual: np.ndarray, weights: np.ndarray, k: float = 2.0) -> np.ndarray:
    """Weights ``min(1, k·s/|r|)``, ``s`` a robust (mean absolute deviation) scale."""
    spread = 1.2533 * _weighted_mean(np.abs(residual), weights)
    limit = k * np.maximum(spread, 1e-3)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.minimum(1.0, limit / np.abs(residual))
    return np.nan_to_num(weights, nan=0.0)  # series without trade: nothing to weigh


def _weighted_mean(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (x * weights).sum(axis=1) / total, np.nan)


def _pooled_seasonality(
    month_sum: np.ndarray,
    month_count: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    strength: float,
) -> np.ndarray:
    """Per-series seasonal profile (``n_series x 12``, mean zero): own → group → global."""
    group_sum = np.zeros((n_groups, 12))
    group_count = np.zeros((n_groups, 12))
    np.add.at(group_sum, groups, month_sum)
    np.add.at(group_count, groups, month_count)
    global_profile = _centred(group_sum.sum(axis=0) / np.maximum(group_count.sum(axis=0), 1))
    # A group's profile counts as many series-months as it has, against 12 for the prior.
    group_profile = _centred(
        (group_sum + 12 * strength * global_profile) / (group_count + 12 * strength)
    )
    own = (month_sum + strength * group_profile[groups]) / (month_count + strength)
    return _centred(own)


def _centred(profile: np.ndarray) -> np.ndarray:
    return profile - profile.mean(axis=-1, keepdims=True)


def _level_trend_noise(
    values: np.ndarray,
    recency: np.ndarray,
    season: np.ndarray,
    months: np.ndarray,
    params: PooledForecaster,
) -> dict[str, np.ndarray]:
    """Per-series level at the end of the window, damped trend and residual variance."""
    n_months = values.shape[1]
    traded = values > 0
    logs = np.log(np.where(traded, values, 1.0)) - season[:, months]
    base = traded * recency
    level = _weighted_mean(logs, base)
    huber = _huber_weights(np.where(traded, logs - level[:, None], 0.0), base)
    weights = base * huber
    total = weights.sum(axis=1)
    time = np.arange(n_months, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (weights * time).sum(axis=1) / total
        offset = time[None, :] - centre[:, None]
        spread = (weights * offset**2).sum(axis=1)
        level = (weights * logs).sum(axis=1) / total
        slope = np.where(
            spread > 0, (weights * offset * (logs - level[:, None])).sum(axis=1) / spread, 0.0
        )
    n_nonzero = traded.sum(axis=1)
    residual = np.where(traded, logs - level[:, None] - slope[:, None] * offset, 0.0)
    dof = np.maximum(n_nonzero - 2, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(dof > 0, (residual**2).sum(axis=1) / dof, np.nan)
        slope_se2 = variance / (traded * offset**2).sum(axis=1)
        keep = np.clip(1 - params.trend_threshold**2 * slope_se2 / slope**2, 0.0, 1.0)
    if params.damping > 0:
        slope = np.where(np.isfinite(keep) & (dof > 2), slope * keep, 0.0)
    else:
        slope = np.zeros_like(slope)
    level_end = level + slope * (n_months - 1 - centre)
    fitted_residual = np.where(traded, logs - level[:, None] - slope[:, None] * offset, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        n_effective = total**2 / (weights**2).sum(axis=1)
        # Duan's smearing: the mean of exp(residual) turns the log level into a mean.
        smearing = (base * np.exp(fitted_residual)).sum(axis=1) / base.sum(axis=1)
    return {
        "level": level_end,
        "raw_smearing": smearing,
        "trend": slope,
        "raw_variance": variance,
        "n_effective": np.nan_to_num(n_effective, nan=0.0),
        "n_nonzero": n_nonzero,
        "p_raw": base.sum(axis=1) / recency.sum(),
        "n_weighted": np.full(len(values), recency.sum() ** 2 / (recency**2).sum()),
    }


def _beta_prior_strength(rates: np.ndarray, n: np.ndarray) -> float:
    """Empirical-Bayes pseudo-count of a Beta prior for per-series rates.

    Method of moments: the spread of the rates across series, less what binomial noise
    of ``n`` months alone would give, is the spread of the prior; a prior that is
    narrow against it pulls hard, one that is wide (series truly differ) barely pulls.
    """
    mean = float(rates.mean())
    noise = float(np.mean(rates * (1 - rates) / np.maximum(n, 1)))
    between = max(float(rates.var()) - noise, 1e-6)
    return float(np.clip(mean * (1 - mean) / between - 1, 0.01, 1e3))


def _group_mean(x: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    valid = np.isfinite(x)
    total = np.bincount(groups[valid], weights=x[valid], minlength=n_groups)
    count = np.bincount(groups[valid], minlength=n_groups)
    overall = x[valid].mean() if valid.any() else 0.0
    # Groups with few series lean on the overall mean (10 pseudo-series).
    return (total + 10 * overall) / (count + 10)


def _pool_sizes_and_noise(
    state: dict[str, np.ndarray], groups: np.ndarray, n_groups: int, strength: float
) -> None:
    """Combine each series' variance with a prior from flows of similar size and group.

    Small flows are noisier, so the prior log-variance is a line in the log level,
    plus a group offset; fitted by least squares on series with enough months.
    """
    raw = state.pop("raw_variance")
    level = state["level"]
    informative = np.isfinite(raw) & (raw > 0) & (state["n_nonzero"] >= 4)
    if informative.sum() >= 3:
        design = np.column_stack([np.ones(informative.sum()), level[informative]])
        coef, *_ = np.linalg.lstsq(design, np.log(raw[informative]), rcond=None)
        if coef[1] > 0:  # a prior that grows with size would contradict the data's physics
            coef = np.array([np.log(raw[informative]).mean(), 0.0])
    elif informative.any():
        coef = np.array([np.log(raw[informative]).mean(), 0.0])
    else:
        coef = np.array([0.0, 0.0])  # log-sd 1: the usual spread of monthly trade
    line = coef[0] + coef[1] * np.nan_to_num(
        level, nan=np.nanmean(level) if np.isfinite(level).any() else 0.0
    )
    offset = np.full(len(raw), np.nan)
    offset[informative] = np.log(raw[informative]) - line[informative]
    group_offset = (
        _group_mean(offset, groups, n_groups) if informative.any() else np.zeros(n_groups)
    )
    prior = np.exp(line + group_offset[groups])
    dof = np.maximum(state["n_nonzero"] - 2, 0)
    own = np.where(np.isfinite(raw), raw, 0.0)
    state["variance"] = (strength * prior + dof * own) / (strength + dof)
    state["prior_coef"] = coef


def _pool_smearing(state: dict[str, np.ndarray], strength: float) -> None:
    """Shrink each series' log smearing factor to the median of well-observed series."""
    raw = state.pop("raw_smearing")
    n = state["n_nonzero"].astype(np.float64)
    informative = np.isfinite(raw) & (n >= 4)
    prior = float(np.median(np.log(raw[informative]))) if informative.any() else 0.0
    own = np.where(np.isfinite(raw), np.log(raw), 0.0)
    state["log_smearing"] = (n * own + strength * prior) / (n + strength)
    state["smearing_prior"] = np.array(prior)


def _new_series_prior(state: dict[str, np.ndarray], occurrence_prior: np.ndarray) -> np.ndarray:
    """Level, variance and occurrence for a flow without pre-war trade.

    Flows that traded in only a few training months are the closest kin of new flows:
    their median level and variance are the prior; occurrence is the lowest group rate.
    """
    sporadic = (state["n_nonzero"] >= 1) & (state["n_nonzero"] <= 3)
    pool = sporadic if sporadic.any() else state["n_nonzero"] >= 1
    if pool.any():
        level = float(np.median(state["level"][pool]))
        variance = float(np.median(state["variance"][pool]))
    else:
        level, variance = 0.0, 1.0
    occurrence = float(occurrence_prior.min()) if occurrence_prior.size else 0.1
    return np.array([occurrence, level, variance])


def _forecast(
    state: dict[str, np.ndarray],
    horizons: np.ndarray,
    periods: pd.PeriodIndex,
    series: np.ndarray | None,
) -> HurdleLogForecast:
    """The uncalibrated (normal-error, unit scale factor) forecast of ``series`` rows."""
    rows, season = _rows(state, series)
    damping = float(state["damping"])
    if damping > 0:
        cumulative = damping * (1 - damping**horizons) / (1 - damping)
    else:
        cumulative = np.zeros(len(horizons))
    months = periods.month.to_numpy() - 1
    loc = rows["level"][:, None] + rows["trend"][:, None] * cumulative[None, :] + season[:, months]
    scale = np.sqrt(rows["variance"] * (1 + 1 / np.maximum(rows["n_effective"], 1)))
    return HurdleLogForecast(
        periods,
        p_nonzero=rows["p_nonzero"][:, None],
        loc=loc,
        scale=scale[:, None],
        mean_factor=np.exp(rows["log_smearing"])[:, None],
    )


def _rows(
    state: dict[str, np.ndarray], series: np.ndarray | None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-series parameters for ``series`` rows; unseen (-1) rows get the new prior."""
    occurrence, level, variance = state["new_series"]
    empty = state["n_nonzero"] == 0
    columns = {
        "p_nonzero": (state["p_nonzero"], occurrence),
        "level": (np.where(empty, level, state["level"]), level),
        "trend": (state["trend"], 0.0),
        "variance": (np.where(empty, variance, state["variance"]), variance),
        "n_effective": (state["n_effective"], 0.0),
        "log_smearing": (state["log_smearing"], float(state["smearing_prior"])),
    }
    season = state["season"].astype(np.float64)
    if series is None:
        return {name: values for name, (values, _) in columns.items()}, season
    seen = series != UNSEEN
    rows = np.where(seen, series, 0)
    picked = {
        name: np.where(seen, values[rows], fallback)
        for name, (values, fallback) in columns.items()
    }
    return picked, np.where(seen[:, None], season[rows], 0.0)


def _calibration_rows(n_series: int, limit: int = 50_000) -> np.ndarray:
    """Series used to calibrate: all, or a fixed-seed sample of ``limit`` for big panels."""
    if n_series <= limit:
        return np.arange(n_series)
    return np.sort(np.random.default_rng(0).choice(n_series, size=limit, replace=False))


def _error_shape(forecast: HurdleLogForecast, actual: np.ndarray) -> ErrorShape | None:
    """Shape of out-of-sample standardised log errors in months with trade."""
    traded = actual > 0
    if traded.sum() < 200:  # too few to tabulate a distribution: keep the normal
        return None
    with np.errstate(divide="ignore"):
        errors = (np.log(np.where(traded, actual, 1.0)) - forecast.loc) / forecast.scale
    return ErrorShape.from_sample(errors[traded])


def _calibrated_scale(forecast: HurdleLogForecast, actual: np.ndarray, coverage: float) -> float:
    """The factor ``c`` on the log scale whose intervals cover ``coverage`` of ``actual``."""
    base_scale = forecast.scale

    def covered(c: float) -> float:
        forecast.scale = base_scale * c
        lower, upper = forecast.interval(coverage)
        return float(np.mean((actual >= lower) & (actual <= upper)))

    lo, hi = 0.2, 10.0
    if covered(hi) >= coverage:
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if covered(mid) < coverage else (lo, mid)
    forecast.scale = base_scale
    return hi


def _series_info(state: dict[str, np.ndarray]) -> pd.DataFrame:
    """Which variant of the model each series got, and why."""
    n_nonzero = state["n_nonzero"]
    reason = np.select(
        [n_nonzero == 0, n_nonzero < 4, state["p_nonzero"] < 0.5],
        [
            "no trade in the training window: new-flow prior",
            "short history: pooled priors dominate",
            "intermittent: occurrence modelled apart from size",
        ],
        default="own history with pooled priors",
    )
    return pd.DataFrame(
        {"model": "pooled-hurdle-lognormal", "reason": reason, "n_nonzero": n_nonzero}
    )
