"""The default forecaster: a vectorised hurdle model on the log scale with pooled priors.

Why this model. Monthly bilateral trade in one HS6 product is a few large shipments
with multiplicative noise of 50–150% and many months with no trade declared. Per-series
ETS fits little more than the pre-war mean on such data (and AutoETS does worse than the
mean), so the gains lie in *pooling*: a month with no trade is an event with its own
probability; the size of a month's trade is log-normal around a robust, recency-weighted
level; the seasonal profile, the noise level and the occurrence rate are learned from
similar flows and each series' own estimate is shrunk towards them by how much data it
has. The whole panel is fitted as a few passes over one matrix, in chunks of series so
memory stays bounded, or over partitions on disk (:meth:`PooledForecaster.fit_rows`,
:mod:`anomaly.forecast.rows`); no Python code runs per series.

Model for series ``i`` in month ``t`` after the training window (horizon ``h``)::

    P(no trade) = 1 - p_i
    log(value) | trade = level_i + trend_i · Σ_{j≤h} φ^j + season_i[month(t)] + σ_i · e
    e ~ the error shape learned on held-out months (left-skewed, heavier than normal)

- ``p_i``: recency-weighted share of months with trade, shrunk to its group's share
  by a Beta prior whose strength is estimated from how much the shares differ across
  series (empirical Bayes). The share is read over the months its reporter is known
  to have published: a reporter that joins the data later declared no zeros before,
  and one that declares many series of a direction (imports, exports) a month and none
  in some did not publish those (:mod:`anomaly.forecast.publication`).
- ``level_i``: recency-weighted mean of the deseasonalised log values (half-life chosen
  on held-out months), with Huber weights so a one-off contract does not drag it;
  months of a **common shock** (most flows moving together far from their seasonal
  norm for a few months, like the spring-2020 lockdowns) are detected and left out of
  the whole fit.
- ``trend_i``: weighted least-squares slope, shrunk to zero unless clearly estimated
  (|t| above ``trend_threshold``) and damped by ``φ = damping`` per month, so pre-war
  growth cannot explode over a two-year horizon.
- ``season_i``: the series' own calendar-month medians over the years (robust to one
  odd year), shrunk to its group's profile (groups = ``pool_by`` key columns), itself
  shrunk to the global profile; the strengths are estimated by empirical Bayes. The
  global profile is itself shrunk towards zero by how far the common time effects
  of the years seen (how all flows' same calendar month differs from year to year)
  could have made it: in a short window, where a calendar month is seen once, a
  common recovery or slump is not taken for a seasonal pattern to repeat.
- ``σ²_i``: the series' residual variance — for a series read over fewer months than
  the window holds (a flow born in it, a reporter that started late), plus the wander
  it missed, how much the mean variance of whole-window series grows from their last
  months to the whole window (:func:`_history_wander`): a level that wanders has
  wandered less in a short history — combined with a prior that depends on the
  flow's size and group (small flows are noisier), ``scale_strength`` pseudo-months,
  times ``1 + 1/n_i`` for the level's own uncertainty, and times ``1 + g·(h - 1)``
  at horizon ``h``: a level that wanders (trade flows are often close to random walks)
  is further from its forecast the further ahead it is read. ``g`` is learned on the
  held-out months (:func:`_horizon_growth`); 0 where the errors do not grow.
- the **expected value** is ``p_i`` times the series' own mean of a month's trade
  (Duan's smearing of its residuals), with no distributional assumption;
- **calibration**: on held-out months at the end of the training window, the shape of
  the standardised log errors is tabulated per occurrence stratum, and the probability
  integral transforms of the held-out months give a recalibration map per stratum, so
  intervals of every coverage are calibrated (Kuleshov et al., 2018).

A series with no trade in the training window, like one never seen, gets the priors:
the lowest group occurrence rate (at most ``1 / (months + 2)``, what that many months
without trade allow), and the size and noise of flows that traded only sporadically;
its expected value is small and its band comes from similar series.
"""

from __future__ import annotations

import logging
import warnings
from typing import Self

import numpy as np
import pandas as pd

from anomaly.errors import DataError
from anomaly.forecast.accuracy import rmsse
from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.forecast.distribution import (
    ErrorShape,
    HurdleLogForecast,
    RecalibratedForecast,
    StratifiedErrorShape,
    pit_recalibration_table,
)
from anomaly.forecast.publication import (
    UnpublishedMonths,
    declared_rows,
    log_unpublished,
    unpublished_months,
)
from anomaly.forecast.rows import MatrixRows, SeriesRows, calibration_rows
from anomaly.panel.core import as_month

logger = logging.getLogger(__name__)

#: A flow born inside the training window (see :func:`occurrence_start`): its first
#: month of trade comes at least ``BIRTH_GAP`` months after the first month its
#: reporter published, at least ``BIRTH_SPAN`` months before the window ends, and it
#: traded in at least ``BIRTH_SHARE`` of the months from then on. Chosen on the
#: development part of ``experiments/backtest_forecast.py`` (issue 15).
BIRTH_GAP = 3
BIRTH_SPAN = 5
BIRTH_SHARE = 0.85
#: Half-lives (months) that ``half_life="auto"`` chooses from, shortest first.
HALF_LIVES: tuple[float, ...] = (6.0, 12.0, 24.0, np.inf)
#: ``half_life="auto"`` takes the longest half-life whose held-out loss is within this
#: share of the lowest: smaller differences are noise that flips with a month more or
#: less of data (issue 15: 6 of 10 development windows preferred 24 months to ``inf``
#: by 0.06-0.33%, and ``inf`` forecast as well or better on their own test months).
HALF_LIFE_MARGIN = 0.01

#: Fitted arrays with one row per series (the others are pooled tables and numbers).
SERIES_STATE: tuple[str, ...] = (
    "level",
    "trend",
    "variance",
    "n_effective",
    "n_nonzero",
    "p_nonzero",
    "log_smearing",
    "season",
    "occurrence_months",
)

#: A common shock is transient: a run of commonly departing months longer than this,
#: or one the flows did not come back from within as many months, is a change of level
#: that the fit must follow (see :func:`_transient`).
MAX_SHOCK_MONTHS = 6
#: Bounds of the occurrence-rate strata calibrated apart: intervals of sparse and of
#: regular flows err in opposite directions, so one factor for all would leave both off.
OCCURRENCE_STRATA: tuple[float, ...] = (0.3, 0.7)
#: Months of history at which :func:`_history_wander` reads how much a series'
#: variance grows when read over the whole window.
HISTORY_LENGTHS: tuple[int, ...] = (6, 9, 12, 18, 24, 36, 48, 60, 72, 96)
#: Whole-window series :func:`_history_wander` needs to read a length.
MIN_HISTORY_SERIES = 100
#: Held-out errors a horizon needs to count in :func:`_horizon_growth`.
MIN_HORIZON_ERRORS = 200
#: Held-out PIT values the recalibration map needs: a 90% interval's map reads the 5%
#: and 95% quantiles of the PIT, which fewer values (under 5 in each tail) cannot place.
#: Below it the intervals stay as the model gives them.
MIN_PIT_VALUES = 100


class PooledForecaster(Forecaster):
    """Vectorised hurdle log-scale forecaster with pooled seasonality, noise and occurrence.

    Parameters
    ----------
    half_life : float or "auto"
        Months after which a training month's weight halves (recency weighting);
        ``"auto"`` picks from :data:`HALF_LIVES` by the point forecasts on the held-out
        end of the training window: the longest whose loss is within
        :data:`HALF_LIFE_MARGIN` of the best (``inf``: all months weigh alike).
    damping : float
        Per-month damping ``φ`` of the trend, in [0, 1); 0 disables the trend.
    trend_threshold : float
        A slope is kept only in proportion to how far its t statistic exceeds this.
    seasonal_strength : float or "auto"
        Pseudo-observations (per calendar month) of the pooled seasonal profile when
        combined with a series' own monthly means; ``"auto"`` estimates it from how
        much monthly profiles differ across series (empirical Bayes).
    occurrence_strength : float or "auto"
        Pseudo-months of the group's occurrence rate in each series' rate; ``"auto"``
        estimates it from how much the rates differ across series (empirical Bayes).
    scale_strength : float
        Pseudo-months (degrees of freedom) of the pooled noise level.
    pool_by : tuple of str
        Key columns that define the groups sharing priors.
    calibrate : bool
        Learn the error shape and the PIT recalibration maps on held-out months at the
        end of the training window (skipped for windows under 12 months).
    chunk_size : int
        Series per pass; bounds memory, results do not depend on it.
    n_threads : int, optional
        Threads over chunks (default: the cores, at most 4); results do not depend
        on it.

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
        half_life: float | str = "auto",
        damping: float = 0.9,
        trend_threshold: float = 2.0,
        seasonal_strength: float | str = "auto",
        occurrence_strength: float | str = "auto",
        scale_strength: float = 4.0,
        pool_by: tuple[str, ...] = ("reporter", "flow"),
        calibrate: bool = True,
        chunk_size: int = 50_000,
        n_threads: int | None = None,
    ) -> None:
        self.half_life = half_life
        self.damping = damping
        self.trend_threshold = trend_threshold
        self.seasonal_strength = seasonal_strength
        self.occurrence_strength = occurrence_strength
        self.scale_strength = scale_strength
        self.pool_by = pool_by
        self.calibrate = calibrate
        self.chunk_size = chunk_size
        self.n_threads = n_threads

    def fit(self, panel, train_start=None, train_end=None):
        first = as_month(train_start) if train_start is not None else panel.periods[0]
        last = as_month(train_end) if train_end is not None else panel.periods[-1]
        self._groups = self._pool_groups(panel.keys)
        self._unpublished = unpublished_months(*declared_rows(panel, first, last))
        log_unpublished(panel.keys, self._unpublished, pd.period_range(first, last, freq="M"))
        return super().fit(panel, train_start, train_end)

    def fit_rows(
        self,
        rows: SeriesRows,
        keys: pd.DataFrame,
        periods: pd.PeriodIndex,
        unpublished: UnpublishedMonths | None = None,
    ) -> Self:
        """Fit on series whose rows are read by ``rows`` (partitions on disk, say).

        The same fit as :meth:`fit` on a panel of ``keys`` over ``periods`` whose
        matrix ``rows`` reads (absent months as zeros): each pass runs over
        ``rows``' blocks and only per-series arrays and pooled tables are gathered,
        so the matrix is never held whole. Sums over series (the months' common
        deviations) are added block by block: their rounding, and so the fitted
        numbers' last bits, depend on the blocks (a relative difference of about
        1e-12 from :meth:`fit`).

        Parameters
        ----------
        rows : SeriesRows
            The training window's rows, one per series of ``keys``, in their order.
        keys : pandas.DataFrame
            The series' keys (the ``pool_by`` columns at least).
        periods : pandas.PeriodIndex
            The training window's months (the rows' columns).
        unpublished : UnpublishedMonths, optional
            The months of ``periods`` in which each series' reporter is not known to
            have published (:func:`~anomaly.forecast.publication.unpublished_months`);
            None: every reporter published every month.

        Returns
        -------
        self
        """
        if rows.n_series == 0:
            raise DataError("no series to fit")
        self._groups = self._pool_groups(keys)
        self._unpublished = unpublished
        log_unpublished(keys, unpublished, periods)
        self._fit_rows(rows, periods)
        self.train_periods_ = periods
        return self

    def _pool_groups(self, keys: pd.DataFrame) -> np.ndarray:
        """Each series' group of the ``pool_by`` columns (numbered in sorted order)."""
        missing = [c for c in self.pool_by if c not in keys.columns]
        if missing:
            raise ValueError(f"pool_by names columns {missing} that the panel keys lack")
        if not self.pool_by:
            return np.zeros(len(keys), dtype=np.int64)
        return keys.groupby(list(self.pool_by), sort=True, observed=True).ngroup().to_numpy()

    # -- fitting -------------------------------------------------------------------

    def _fit(self, values: np.ndarray, periods: pd.PeriodIndex) -> None:
        self._fit_rows(MatrixRows(values, self.chunk_size, self.n_threads), periods)

    def _fit_rows(self, source: SeriesRows, periods: pd.PeriodIndex) -> None:
        groups, unpublished = self._groups, self._unpublished
        holdout = _holdout_length(len(periods))
        candidates = HALF_LIVES if self.half_life == "auto" else (float(self.half_life),)
        half_life, shapes, tables = candidates[-1], np.empty((0, 0)), np.empty((0, 0))
        growth = 0.0
        # Found once on the whole window: the calibration's fit on its first months
        # leaves out the same months as the final fit.
        shocks = _common_shocks(source.sample, periods.month.to_numpy() - 1)
        if self.calibrate and holdout:
            rows = calibration_rows(source.n_series)
            sample = source.sample
            train, actual = sample[:, :-holdout], sample[:, -holdout:]
            train_unpublished = None
            if unpublished is not None:  # unpublished months are not zeros
                sampled = unpublished.of(rows)
                unknown = sampled.series_months()
                # A series whose reporter is first seen in the held-out months has no
                # history to forecast them from, and a month its reporter did not
                # publish has no error: neither says anything about errors.
                unseen = unknown[:, : train.shape[1]].all(axis=1)
                actual = np.where(unseen[:, None] | unknown[:, -holdout:], np.nan, actual)
                train_unpublished = sampled.first(train.shape[1])
            # A common shock in the held-out months (the 2020 lockdowns held out from a
            # 2015-2020 window) says nothing about normal errors: those months are
            # left out of the calibration, as they are of the fit.
            actual = np.where(shocks[-holdout:], np.nan, actual)
            horizons = np.arange(1, holdout + 1)
            forecasts = {
                candidate: _forecast(
                    _fit_state(
                        self,
                        MatrixRows(train, self.chunk_size, self.n_threads),
                        periods[:-holdout],
                        groups[rows],
                        candidate,
                        train_unpublished,
                        shocks[:-holdout],
                    ),
                    horizons,
                    periods[-holdout:],
                    None,
                )
                for candidate in candidates
            }
            losses = np.array([_point_loss(forecasts[c], actual, train) for c in candidates])
            half_life = _longest_within(candidates, losses, HALF_LIFE_MARGIN)
            growth = _horizon_growth(forecasts[half_life], actual)
            forecast = _grown(forecasts[half_life], growth, horizons)
            shapes = _error_shapes(forecast, actual)
            tables = _recalibration_tables(_with_shapes(forecast, shapes), actual)
        self.state_ = _fit_state(self, source, periods, groups, half_life, unpublished, shocks)
        self.state_["half_life"] = np.array(half_life)
        self.state_["pit_tables"] = tables
        self.state_["error_shapes"] = shapes
        self.state_["horizon_growth"] = np.array(growth)
        self.series_info_ = _series_info(self.state_)

    def occurrence_months(self) -> np.ndarray:
        """Per series, the training months from its :func:`occurrence_start` on, shock
        months left out (every training month for a model saved without them)."""
        if "occurrence_months" in self.state_:
            return self.state_["occurrence_months"]
        return super().occurrence_months()

    def _predict(self, periods, horizons, series):
        forecast = _forecast(self.state_, horizons, periods, series)
        forecast = _with_shapes(forecast, self.state_["error_shapes"])
        tables = self.state_["pit_tables"]
        if not tables.size:
            return forecast
        return RecalibratedForecast(forecast, strata=_strata(forecast.p_nonzero), tables=tables)


def series_state(state: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The fitted state of the series at ``rows`` (its pooled tables as they are): what
    a forecaster restored from it (:meth:`Forecaster.restore`) predicts for its row
    ``i`` is what the whole forecaster predicts for ``rows[i]``.

    Examples
    --------
    >>> state = {"level": np.array([1.0, 2.0, 3.0]), "damping": np.array(0.9)}
    >>> series_state(state, np.array([2, 0]))["level"].tolist()
    [3.0, 1.0]
    """
    return {name: array[rows] if name in SERIES_STATE else array for name, array in state.items()}


def _holdout_length(n_months: int) -> int:
    """Months held out for calibration: a quarter of the window, 3 to 12; none if short."""
    if n_months < 12:
        return 0
    return int(np.clip(n_months // 4, 3, 12))


def _fit_state(
    params: PooledForecaster,
    rows: SeriesRows,
    periods: pd.PeriodIndex,
    groups: np.ndarray,
    half_life: float,
    unpublished: UnpublishedMonths | None,
    shocks: np.ndarray,
) -> dict[str, np.ndarray]:
    """All fitted numbers for the series of ``rows``: per-series arrays and pooled tables.

    ``unpublished`` (or None: none) holds the months in which each series' reporter is
    not known to have published its direction: they are not known to be without trade, so the share
    of months with trade is read over the others. ``shocks`` (per month, from
    :func:`_common_shocks`) marks the months of a common shock, left out of the fit.
    """
    n_months = len(periods)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    months = periods.month.to_numpy() - 1
    recency = 0.5 ** ((n_months - 1 - np.arange(n_months)) / half_life)
    # Months of a common shock (a COVID-like dip) weigh nothing: every pass below reads
    # a month of zero weight as not observed.
    recency = np.where(shocks, 0.0, recency)

    # Pass 1: each series' monthly deviations from its robust level, to pool seasonality.
    first = rows.map(_monthly_deviations, [], recency, months)
    month_sum = rows.gather([f[0] for f in first])
    month_count = rows.gather([f[1] for f in first])
    noise = rows.gather([f[2] for f in first])
    reliability = _seasonal_reliability(
        sum(f[3] for f in first), sum(f[4] for f in first), months, recency > 0
    )
    season = _pooled_seasonality(
        month_sum, month_count, noise, groups, n_groups, params.seasonal_strength, reliability
    )
    del month_sum, month_count, noise

    # Pass 2: deseasonalised level, trend and noise per series.
    per_series = rows.map(
        _level_trend_noise,
        [season, None if unpublished is None else unpublished.publisher],
        None if unpublished is None else unpublished.months,
        recency,
        months,
        params.trend_threshold,
        params.damping,
    )
    state = {name: rows.gather([part[name] for part in per_series]) for name in per_series[0]}
    # A series read over fewer months than the window holds has seen less of its
    # level's wander: the wander it missed is added to its variance.
    lengths, wander = _history_wander(
        rows.sample, season[calibration_rows(rows.n_series)], recency, months, params
    )
    span = n_months - state.pop("first_traded")
    state["raw_variance"] = state["raw_variance"] + _missed_wander(span, lengths, wander, n_months)

    occurrence_prior = _group_mean(state["p_raw"], groups, n_groups)
    weight = state.pop("n_weighted")
    strength = params.occurrence_strength
    if strength == "auto":
        strength = _beta_prior_strength(state["p_raw"], weight)
    state["occurrence_strength"] = np.array(strength)
    state["p_nonzero"] = (weight * state.pop("p_raw") + strength * occurrence_prior[groups]) / (
        weight + strength
    )

    _pool_sizes_and_noise(state, groups, n_groups, params.scale_strength)
    # Duan's smearing with each series' own residuals: the mean of a month's trade
    # needs no distributional assumption. Pooling it was tried; shrinking towards the
    # typical factor inflated sparse flows' expectations and worsened point accuracy.
    raw_smearing = state.pop("raw_smearing")
    state["log_smearing"] = np.where(np.isfinite(raw_smearing), np.log(raw_smearing), 0.0)
    state["season"] = season.astype(np.float32)
    state["damping"] = np.array(params.damping)
    state["new_series"] = _new_series_prior(state, occurrence_prior, n_months)
    state["shock_months"] = shocks
    return state


def _common_shocks(sample: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Months in which most flows moved together far from their seasonal norm.

    The cross-sectional median of each month's log deviation (from each series'
    median) is compared with the same calendar month in other years; a month whose
    departure is both material (over 15% in logs) and extreme among all months (robust
    z over 4) is a common shock, such as the spring-2020 lockdowns, if the flows came
    back from it (:func:`_transient`): a move that lasts is a change of level, which the
    fit must follow, not leave out. At most a quarter of the months are flagged, and
    none without two years of history to compare with.
    Computed on the fixed sample of series of :func:`calibration_rows` (``sample``:
    their rows), so it costs little on large panels.
    """
    n_months = sample.shape[1]
    if n_months < 24:
        return np.zeros(n_months, dtype=bool)
    traded = sample > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # series or months without trade
        logs = np.where(traded, np.log(np.where(traded, sample, 1.0)), np.nan)
        deviation = logs - np.nanmedian(logs, axis=1, keepdims=True)
        common = np.nanmedian(deviation, axis=0)
        norm = np.array([np.nanmedian(common[months == m]) for m in range(12)])
    departure = np.nan_to_num(common - norm[months])
    spread = max(1.4826 * float(np.median(np.abs(departure))), 0.02)
    extreme = (np.abs(departure) > 0.15) & (np.abs(departure) / spread > 4)
    if extreme.sum() > n_months // 4:
        return np.zeros(n_months, dtype=bool)
    return _transient(extreme, departure)


def _transient(flagged: np.ndarray, departure: np.ndarray) -> np.ndarray:
    """The runs of ``flagged`` months that were transient shocks.

    A run is kept when it lasts at most :data:`MAX_SHOCK_MONTHS` months and the flows
    came back from it: over the (up to as many) months after it, their common
    ``departure`` on the run's side is under half the run's. A move that lasts, even
    where some of its months fall short of the flagging thresholds, or one the window
    ends in before any month can show whether it lasts, is a change of level.

    Examples
    --------
    A dip the flows came back from, then a rise that stayed (its fourth month
    unflagged):

    >>> departure = np.array([0, -.8, -.7, 0, 0, .5, .5, .5, .3, .5, .5, .5, .5, .5])
    >>> _transient(np.abs(departure) > 0.4, departure).astype(int)
    array([0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    """
    edges = np.flatnonzero(np.diff(np.r_[0, flagged.astype(np.int8), 0]))
    kept = flagged.copy()
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        run = departure[start:stop]
        after = np.sign(np.median(run)) * departure[stop : stop + MAX_SHOCK_MONTHS]
        came_back = after.size > 0 and np.median(after) < 0.5 * np.median(np.abs(run))
        if stop - start > MAX_SHOCK_MONTHS or not came_back:
            kept[start:stop] = False
    return kept


def _monthly_deviations(
    values: np.ndarray, recency: np.ndarray, months: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each series' seasonal deviations from its robust level, robust to one-off years.

    For each calendar month, the deviation is the median over the years of that
    month's log deviation, so a shock confined to one year (a COVID-like dip) does not
    become "seasonality". Returned as ``(median × count, count)`` per calendar month
    (the form of sums and counts), with the per-series noise variance of one such
    observation (the variance of a median is about π/2 that of a mean), and the sum
    and count of the deviations of each month of the window over the series (their
    ratio is the month's common deviation, see :func:`_seasonal_reliability`).
    """
    traded = (values > 0) & (recency > 0)
    logs = np.log(np.where(traded, values, 1.0))
    weights = traded * recency
    level = _weighted_mean(logs, weights)
    residual = np.where(traded, logs - level[:, None], 0.0)
    huber = _huber_weights(residual, weights)
    level = _weighted_mean(logs, weights * huber)
    residual = np.where(traded, logs - level[:, None], np.nan)
    median = np.zeros((len(values), 12))
    count = np.zeros((len(values), 12))
    for month in range(12):  # twelve passes over columns, vectorised across series
        columns = months == month
        count[:, month] = traded[:, columns].sum(axis=1)
        median[:, month] = np.nan_to_num(_row_nanmedian(residual[:, columns]))
    n_traded = traded.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        squares = np.nansum(residual**2, axis=1)
        noise = np.where(n_traded > 1, squares / (n_traded - 1), np.nan) * np.pi / 2
    column_sum = np.nansum(residual, axis=0, dtype=np.float64)
    return median * count, count, noise, column_sum, traded.sum(axis=0)


def _seasonal_reliability(
    column_sum: np.ndarray, column_count: np.ndarray, months: np.ndarray, observed: np.ndarray
) -> np.ndarray:
    """Reliability (0..1) per calendar month of the global seasonal profile.

    The mean deviation of all flows in a month is the calendar month's seasonal effect
    plus a common drift plus that year's common time effect (a recovery, a boom, a
    lockdown not flagged as a shock). A least-squares fit of calendar-month effects and
    a linear drift to these means gives the time effects' variance ``σ²`` (from how the
    same calendar month differs across years) and the seasonal effects' variance ``τ²``
    (how calendar months differ beyond that); a month seen in ``n`` years keeps the
    share ``τ² / (τ² + σ² / n)`` of its profile (empirical Bayes). A calendar month seen
    once in a short window is shrunk most; without enough repeated months to tell
    season from time effects, no profile is kept.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        common = np.where(observed & (column_count > 0), column_sum / column_count, np.nan)
    seen = np.isfinite(common)
    n_years = np.bincount(months[seen], minlength=12)
    present = np.flatnonzero(n_years)
    dof = int(seen.sum()) - len(present) - 1
    reliability = np.zeros(12)
    if dof < 1 or len(present) < 2:
        return reliability
    time = np.flatnonzero(seen).astype(np.float64)
    design = np.column_stack(
        [months[seen][:, None] == present[None, :], (time - time.mean()) / max(np.ptp(time), 1)]
    ).astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, common[seen], rcond=None)
    time_variance = float(((common[seen] - design @ coef) ** 2).sum() / dof)
    effects = coef[: len(present)] - coef[: len(present)].mean()
    noise = time_variance / n_years[present]
    season_variance = float((effects**2).sum() / (len(present) - 1) - noise.mean())
    if season_variance > 0:
        reliability[present] = season_variance / (season_variance + noise)
    return reliability


def _row_nanmedian(x: np.ndarray) -> np.ndarray:
    """Median of each row ignoring ``NaN`` (``NaN`` for an all-``NaN`` row).

    Sorting short rows (one value per year) beats ``numpy.nanmedian``, which handles
    ``NaN`` through masked arrays, by an order of magnitude.
    """
    if x.shape[1] == 0:  # a calendar month the window does not contain
        return np.full(len(x), np.nan)
    ordered = np.sort(x, axis=1)  # NaN sort last
    valid = (~np.isnan(x)).sum(axis=1)
    rows = np.arange(len(x))
    lower = ordered[rows, np.maximum(valid - 1, 0) // 2]
    upper = ordered[rows, np.maximum(valid, 1) // 2 - (valid == 0)]
    return np.where(valid > 0, (lower + upper) / 2, np.nan)


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
    noise: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    strength: float | str,
    reliability: np.ndarray,
) -> np.ndarray:
    """Per-series seasonal profile (``n_series x 12``, mean zero): own → group → global.

    Each level is the posterior mean under a normal prior centred on the level above.
    With ``strength="auto"`` the prior variances are estimated from the data (how much
    monthly means differ between series, and between groups, beyond what noise
    explains); a number fixes the pseudo-observations instead.
    """
    group_sum = np.zeros((n_groups, 12))
    group_count = np.zeros((n_groups, 12))
    np.add.at(group_sum, groups, month_sum)
    np.add.at(group_count, groups, month_count)
    global_profile = _centred(group_sum.sum(axis=0) / np.maximum(group_count.sum(axis=0), 1))
    finite = np.isfinite(noise)
    pooled_noise = float(np.median(noise[finite])) if finite.any() else 1.0
    noise = np.maximum(np.where(finite, noise, pooled_noise), 1e-4)
    if strength == "auto":
        group_mean = group_sum / np.maximum(group_count, 1)
        group_strength = pooled_noise / _between_variance(
            group_mean, global_profile[None, :], group_count, pooled_noise
        )
    else:
        group_strength = 12 * float(strength)
    group_profile = _centred(
        (group_sum + group_strength * global_profile) / (group_count + group_strength)
    )
    if strength == "auto":
        own_mean = month_sum / np.maximum(month_count, 1e-12)
        tau2 = _between_variance(own_mean, group_profile[groups], month_count, noise[:, None])
        series_strength = (noise / tau2)[:, None]
    else:
        series_strength = float(strength)
    own = (month_sum + series_strength * group_profile[groups]) / (month_count + series_strength)
    # Every level above carries the common time effects of the years seen; the part of
    # the global profile that is not reliably seasonal is removed from all of them.
    return _centred(own - (1 - reliability) * global_profile)


def _between_variance(
    means: np.ndarray, centre: np.ndarray, counts: np.ndarray, noise: np.ndarray | float
) -> float:
    """Variance of true means around ``centre``: observed spread less sampling noise."""
    observed = counts > 0
    spread = (means - centre) ** 2 - noise / np.maximum(counts, 1e-12)
    return max(float(spread[observed].mean()), 1e-4) if observed.any() else 1e-4


def _centred(profile: np.ndarray) -> np.ndarray:
    return profile - profile.mean(axis=-1, keepdims=True)


def _level_trend_noise(
    values: np.ndarray,
    season: np.ndarray,
    publisher: np.ndarray | None,
    unknown: np.ndarray | None,
    recency: np.ndarray,
    months: np.ndarray,
    trend_threshold: float,
    damping: float,
) -> dict[str, np.ndarray]:
    """Per-series level at the end of the window, damped trend and residual variance
    (and the share of months with trade, over the months from its
    :func:`occurrence_start` on), with the forecaster's ``trend_threshold`` and
    ``damping``. ``unknown`` (:attr:`UnpublishedMonths.months`, or None: none) holds
    the months each publisher is not known to have published, ``publisher`` each
    series' row of it: the share is read over the other months."""
    n_months = values.shape[1]
    traded = values > 0
    gaps = None if unknown is None else unknown[publisher]
    start = occurrence_start(traded, None if gaps is None else np.argmax(~gaps, axis=1))
    weight, weight_squares, months_read = _occurrence_weights(recency, start, gaps)
    traded &= recency > 0
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
        keep = np.clip(1 - trend_threshold**2 * slope_se2 / slope**2, 0.0, 1.0)
    if damping > 0:
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
        "occurrence_months": months_read,
        "first_traded": np.where(traded.any(axis=1), traded.argmax(axis=1), n_months),
        "p_raw": base.sum(axis=1) / weight,
        "n_weighted": weight**2 / weight_squares,
    }


def _history_wander(
    sample: np.ndarray,
    season: np.ndarray,
    recency: np.ndarray,
    months: np.ndarray,
    params: PooledForecaster,
) -> tuple[np.ndarray, np.ndarray]:
    """How much a series' residual variance grows when it is read over the whole window
    instead of only its last ``L`` months, for ``L`` in :data:`HISTORY_LENGTHS`: the
    wander a history of ``L`` months has not seen.

    Trade flows wander (their levels are close to random walks), and a series' residual
    variance about its recent level holds that wander: read over a whole window, its
    older months lie further from the level than the last months do. A flow born inside
    the window, one that traded first late in it, or one whose reporter started late
    is read over fewer months, so its variance holds less wander than the whole-window
    series' on which the spread's growth with the horizon and the intervals'
    calibration are learned, and its band is too narrow: in a world of wandering levels
    (``../shared/worlds``), three reporters that started publishing in 2019 put 55 of
    their ordinary flows in the top 2% where their whole history put 33
    (``experiments/unpublished_months.py`` for starts in 2021).

    Read on the series of ``sample`` (rows of the window; ``season`` their profiles)
    that traded from the window's first months on and in at least half its months: the
    difference of their mean variance read over the whole window and their mean
    variance read over the last ``L`` months (means, not medians, so that the noise of a
    variance from few months does not count as wander). Taken no smaller for fewer
    months, and never below 0. A length with fewer than :data:`MIN_HISTORY_SERIES` such
    series, or a window too short for any length, reads 0.

    A difference, not a ratio: the wander a short history missed is the same whatever
    the series' own noise. Binned by their variance over the last 12 months, the
    whole-window series of a development world of ``../shared/worlds``, of our
    simulator and of the Eurostat file of sanctioned goods (2020-2021) gain 0.07-0.09,
    0.03-0.08 and 0.25-0.46 over the whole window in the lower four bins of five, where
    their ratios run from 4.7 to 1.9, 2.6 to 1.1 and 3.3 to 1.1
    (``experiments/history_wander.py``): a ratio of the means gave a quiet series a band
    far too narrow.
    """
    n_months = sample.shape[1]
    whole = _whole_window(sample)
    lengths = np.array([length for length in HISTORY_LENGTHS if length < n_months], dtype=int)
    wander = np.zeros(len(lengths))
    if not lengths.size or whole.sum() < MIN_HISTORY_SERIES:
        return lengths, wander
    rows, profiles = sample[whole], season[whole]
    full, _ = _variance_over_last(rows, profiles, recency, months, params, n_months)
    for i, length in enumerate(lengths):
        part, n_nonzero = _variance_over_last(rows, profiles, recency, months, params, length)
        read = np.isfinite(full) & np.isfinite(part) & (n_nonzero >= max(4, length // 2))
        if read.sum() >= MIN_HISTORY_SERIES:
            wander[i] = full[read].mean() - part[read].mean()
    wander = np.maximum.accumulate(np.maximum(wander, 0.0)[::-1])[::-1]
    return lengths, wander


def _whole_window(sample: np.ndarray) -> np.ndarray:
    """Rows of ``sample`` (series, months) that traded from the window's first months on
    and in at least half its months: the series :func:`_history_wander` reads."""
    traded = sample > 0
    return traded.any(axis=1) & (traded.argmax(axis=1) < 3) & (traded.mean(axis=1) >= 0.5)


def _variance_over_last(
    rows: np.ndarray,
    season: np.ndarray,
    recency: np.ndarray,
    months: np.ndarray,
    params: PooledForecaster,
    length: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Residual variance and months with trade of each of ``rows`` read over its last
    ``length`` months only (``season``: their profiles), as the forecaster reads a
    series' variance."""
    last = slice(rows.shape[1] - length, rows.shape[1])
    found = _level_trend_noise(
        rows[:, last],
        season,
        None,
        None,
        recency[last],
        months[last],
        params.trend_threshold,
        params.damping,
    )
    return found["raw_variance"], found["n_nonzero"]


def _missed_wander(
    span: np.ndarray, lengths: np.ndarray, wander: np.ndarray, n_months: int
) -> np.ndarray:
    """Per series read over ``span`` of a window's ``n_months`` months, the variance of
    :func:`_history_wander` it has not seen (interpolated between ``lengths``, the
    shortest length's below it, down to 0 at the window's length).

    Examples
    --------
    >>> _missed_wander(np.array([3, 6, 9, 12, 18, 24]), np.array([6, 12]),
    ...                np.array([0.2, 0.1]), 24)
    array([0.2 , 0.2 , 0.15, 0.1 , 0.05, 0.  ])
    """
    return np.interp(span, np.append(lengths, n_months), np.append(wander, 0.0))


def _occurrence_weights(
    recency: np.ndarray, start: np.ndarray, gaps: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per series, the sums of ``recency`` and of its squares over the months its share
    of months with trade is read over, and how many of them count in the fit: those from
    ``start`` on, less the months of ``gaps`` (``(series, months)``: its publisher's
    unknown months; None: none).

    From suffix sums (a series trades in none of the months before its start); a series
    whose publisher has unknown months after its start sums its known months instead.
    """
    weight, weight_squares = _weights_from(recency, start)
    months_read = _months_read(start, recency > 0)
    if gaps is None:
        return weight, weight_squares, months_read
    after = np.arange(len(recency)) >= start[:, None]
    gapped = np.flatnonzero((gaps & after).any(axis=1))
    counted = after[gapped] & ~gaps[gapped] & (recency > 0)
    months_read[gapped] = counted.sum(axis=1)
    known = np.where(counted, recency, 0.0)
    total = known.sum(axis=1)
    weighs = total > 0  # else every month's, as from :func:`_weights_from`
    weight[gapped[weighs]] = total[weighs]
    weight_squares[gapped[weighs]] = (known**2).sum(axis=1)[weighs]
    return weight, weight_squares, months_read


def _weights_from(recency: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per series, the sums of ``recency`` and of its squares over the months from
    ``start`` on; every month's where none of those weighs anything (only months of a
    common shock since)."""
    tail = np.cumsum(recency[::-1])[::-1]
    tail_squares = np.cumsum((recency**2)[::-1])[::-1]
    whole, whole_squares = recency.sum(), (recency**2).sum()
    known = (start > 0) & (tail[start] > 0)
    return (
        np.where(known, tail[start], whole),
        np.where(known, tail_squares[start], whole_squares),
    )


def _months_read(start: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Per series, the months from ``start`` on that count in the fit (``counted``: per
    month, not a common shock's): those its share of months with trade is read over."""
    counted_from = np.cumsum(counted[::-1])[::-1]
    return np.append(counted_from, 0)[start].astype(np.int64)


def occurrence_start(traded: np.ndarray, known_from: np.ndarray | None) -> np.ndarray:
    """Per series, the first month of the window its share of months with trade is
    read from.

    That is its reporter's first published month (``known_from``; None: the window's
    first), unless the flow was born inside the window: it first traded at least
    :data:`BIRTH_GAP` months after that month and at least :data:`BIRTH_SPAN` months
    before the window ends, and traded in at least :data:`BIRTH_SHARE` of the months
    from its first on. Such a flow's empty months before it began are not the empty
    months of a sparse flow: counting them would forecast a flow that now trades
    every month as one that trades in a few, and its months of trade would fall above
    the band.

    Parameters
    ----------
    traded : numpy.ndarray of bool
        ``(n_series, n_months)``: whether each series traded in each month.
    known_from : numpy.ndarray of int, optional
        Per series, the first month its reporter published.

    Returns
    -------
    numpy.ndarray of int64
        A position in the window per series.

    Examples
    --------
    >>> traded = np.array([[0, 0, 0, 0, 1, 1, 1, 1, 1, 1],    # born in month 4
    ...                    [0, 0, 0, 0, 1, 0, 0, 1, 0, 0],    # sparse
    ...                    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]], bool)
    >>> occurrence_start(traded, None).tolist()
    [4, 0, 0]
    """
    n_series, n_months = traded.shape
    reporter_start = np.zeros(n_series, np.int64) if known_from is None else known_from
    ever = traded.any(axis=1)
    first = np.where(ever, traded.argmax(axis=1), 0)
    span = n_months - first
    share = traded.sum(axis=1) / span
    born = (
        ever & (first - reporter_start >= BIRTH_GAP) & (span >= BIRTH_SPAN) & (share >= BIRTH_SHARE)
    )
    return np.where(born, first, reporter_start).astype(np.int64)


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
    # Floor: a constant series has no spread, but its future is not certain either.
    state["variance"] = np.maximum((strength * prior + dof * own) / (strength + dof), 1e-4)
    state["prior_coef"] = coef


def _new_series_prior(
    state: dict[str, np.ndarray], occurrence_prior: np.ndarray, n_months: int
) -> np.ndarray:
    """Level, variance and occurrence for a flow without pre-war trade.

    Flows that traded in only a few training months are the closest kin of new flows:
    their median level and variance are the prior. Occurrence is the lowest group rate,
    and at most what ``n_months`` months without trade allow (Laplace's rule of
    succession, ``1 / (n_months + 2)``): a flow that did not trade in six years of
    published months is not expected to trade in most months now, so a flow that
    appears and persists reads as the change it is, whatever its size.
    """
    sporadic = (state["n_nonzero"] >= 1) & (state["n_nonzero"] <= 3)
    pool = sporadic if sporadic.any() else state["n_nonzero"] >= 1
    if pool.any():
        level = float(np.median(state["level"][pool]))
        variance = float(np.median(state["variance"][pool]))
    else:
        level, variance = 0.0, 1.0
    occurrence = float(occurrence_prior.min()) if occurrence_prior.size else 0.1
    occurrence = min(occurrence, 1.0 / (n_months + 2))
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
    forecast = HurdleLogForecast(
        periods,
        p_nonzero=rows["p_nonzero"][:, None],
        loc=loc,
        scale=scale[:, None],
        mean_factor=np.exp(rows["log_smearing"])[:, None],
    )
    # Artifacts written before the growth was learned have none: their spread is flat.
    return _grown(forecast, float(state.get("horizon_growth", 0.0)), horizons)


def _grown(forecast: HurdleLogForecast, growth: float, horizons: np.ndarray) -> HurdleLogForecast:
    """``forecast`` with its log-scale spread widened to ``√(1 + growth·(h - 1))`` times
    at horizon ``h`` (the expected value, read from each series' smearing, stays)."""
    if growth <= 0:
        return forecast
    widening = np.sqrt(1 + growth * (np.asarray(horizons, dtype=np.float64) - 1))
    return HurdleLogForecast(
        forecast.periods,
        p_nonzero=forecast.p_nonzero,
        loc=forecast.loc,
        scale=forecast.scale * widening[None, :],
        mean_factor=forecast.mean_factor,
    )


def _rows(
    state: dict[str, np.ndarray], series: np.ndarray | None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-series parameters for ``series`` rows; unseen (-1) rows get the new prior."""
    occurrence, level, variance = state["new_series"]
    empty = state["n_nonzero"] == 0
    # A series with no trade in the window is treated exactly like an unseen one.
    columns = {
        "p_nonzero": (np.where(empty, occurrence, state["p_nonzero"]), occurrence),
        "level": (np.where(empty, level, state["level"]), level),
        "trend": (state["trend"], 0.0),
        "variance": (np.where(empty, variance, state["variance"]), variance),
        "n_effective": (state["n_effective"], 0.0),
        "log_smearing": (state["log_smearing"], 0.0),
    }
    season = state["season"].astype(np.float64)
    if series is None:
        return {name: values for name, (values, _) in columns.items()}, season
    seen = series != UNSEEN
    rows = np.where(seen, series, 0)
    picked = {
        name: np.where(seen, values[rows], fallback) for name, (values, fallback) in columns.items()
    }
    return picked, np.where(seen[:, None], season[rows], 0.0)


def _longest_within(candidates: tuple[float, ...], losses: np.ndarray, margin: float) -> float:
    """The longest of ``candidates`` (sorted, shortest first) whose loss is within
    ``margin`` (a share) of the lowest; the longest of all where no loss is usable (e.g.
    every series constant).

    Examples
    --------
    >>> _longest_within((6.0, 24.0, np.inf), np.array([0.700, 0.704, 0.720]), 0.01)
    24.0
    >>> _longest_within((6.0, 24.0, np.inf), np.array([np.nan, np.nan, np.nan]), 0.01)
    inf
    """
    if not np.isfinite(losses).any():
        return candidates[-1]
    near = np.flatnonzero(losses <= np.nanmin(losses) * (1.0 + margin))
    return candidates[int(near[-1])]


def _point_loss(forecast: HurdleLogForecast, actual: np.ndarray, train: np.ndarray) -> float:
    """Median RMSSE of the forecast's expected values (the benchmark's point measure)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        losses = rmsse(actual, forecast.mean, train)
    return float(np.median(losses[np.isfinite(losses)])) if np.isfinite(losses).any() else np.nan


def _horizon_growth(forecast: HurdleLogForecast, actual: np.ndarray) -> float:
    """How fast the variance of the standardised log errors grows with the horizon.

    On the held-out months, the robust variance (MAD²) of each horizon's errors (of
    the months with trade; at least :data:`MIN_HORIZON_ERRORS` of them) is fitted by
    non-negative least squares as ``v·(1 + g·(h - 1))``: a flow's level errors add up
    month after month where its level wanders, and not where it is stable (``g`` near
    0). Returns ``g`` (0 with fewer than three horizons to fit on).
    """
    from scipy.optimize import nnls

    traded = actual > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = (np.log(np.where(traded, actual, 1.0)) - forecast.loc) / forecast.scale
    lags, variances = [], []
    for h in range(actual.shape[1]):
        found = errors[traded[:, h], h]
        found = found[np.isfinite(found)]
        if found.size >= MIN_HORIZON_ERRORS:
            lags.append(h)
            variances.append((1.4826 * np.median(np.abs(found - np.median(found)))) ** 2)
    if len(lags) < 3:
        return 0.0
    lag = np.asarray(lags, dtype=np.float64)
    (first, slope), _ = nnls(np.column_stack([np.ones_like(lag), lag]), np.asarray(variances))
    return float(slope / first) if first > 0 else 0.0


def _error_shapes(forecast: HurdleLogForecast, actual: np.ndarray) -> np.ndarray:
    """Tables of out-of-sample standardised log errors per occurrence stratum.

    Empty when there are too few months with trade to tabulate (normal errors are
    then kept); a thin stratum borrows the pooled table.
    """
    traded = actual > 0
    with np.errstate(divide="ignore"):
        errors = (np.log(np.where(traded, actual, 1.0)) - forecast.loc) / forecast.scale
    # Too few, or no spread at all (constant series): keep normal errors.
    if traded.sum() < 200 or np.ptp(errors[traded]) < 1e-6:
        return np.empty((0, 0))
    strata = np.broadcast_to(_strata(forecast.p_nonzero), actual.shape)
    pooled = ErrorShape.from_sample(errors[traded]).table
    tables = []
    for k in range(len(OCCURRENCE_STRATA) + 1):
        in_stratum = traded & (strata == k)
        enough = in_stratum.sum() >= 200
        tables.append(ErrorShape.from_sample(errors[in_stratum]).table if enough else pooled)
    return np.array(tables)


def _strata(p_nonzero: np.ndarray) -> np.ndarray:
    """Occurrence stratum of each series (0 = sparsest)."""
    return np.digitize(p_nonzero, OCCURRENCE_STRATA)


def _with_shapes(forecast: HurdleLogForecast, tables: np.ndarray) -> HurdleLogForecast:
    """Attach the per-stratum error shapes (normal errors if ``tables`` is empty)."""
    if tables.size:
        shapes = [ErrorShape(table) for table in tables]
        forecast.shape = StratifiedErrorShape(shapes, _strata(forecast.p_nonzero))
    return forecast


def _recalibration_tables(forecast: HurdleLogForecast, actual: np.ndarray) -> np.ndarray:
    """PIT recalibration map per occurrence stratum (the pooled map where one is thin).

    Months with no trade are atoms of the predictive distribution; their PIT is drawn
    uniformly within the atom (seeded), as randomised PITs are defined.
    """
    below, at_or_below = forecast.cdf(actual)
    draw = np.random.default_rng(0).random(actual.shape)
    pit = below + draw * (at_or_below - below)
    # Too few held-out months to read (a small file; every reporter first published
    # after them), or only degenerate ones (e.g. constant): no map.
    if np.isfinite(pit).sum() < MIN_PIT_VALUES:
        return np.empty((0, 0))
    if np.subtract(*np.nanquantile(pit, [0.75, 0.25])) < 0.05:
        return np.empty((0, 0))
    strata = np.broadcast_to(_strata(forecast.p_nonzero), pit.shape)
    pooled = pit_recalibration_table(pit)
    tables = []
    for k in range(len(OCCURRENCE_STRATA) + 1):
        in_stratum = pit[(strata == k) & np.isfinite(pit)]
        tables.append(pit_recalibration_table(in_stratum) if in_stratum.size >= 500 else pooled)
    return np.array(tables)


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
