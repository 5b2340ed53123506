"""Predictive distributions of monthly trade values, one per series-month.

Every forecaster returns a :class:`Forecast`: the expected value, the standard
deviation, any quantile, and the predictive CDF at observed values, all as
``(n_series, n_months)`` arrays. Detectors only use this interface, so a
deviation means the same whichever model produced the forecast.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

#: Levels over which :meth:`ErrorShape.mean_exp` integrates.
MEAN_GRID = 1000
#: Scales per block in which :meth:`ErrorShape.mean_exp` integrates (bounded memory).
MEAN_BLOCK = 2048
#: Spacing of the scales at which :meth:`ErrorShape.mean_exp` is integrated once and
#: kept; scales between two are interpolated (cubic Hermite on the log, relative error
#: below 1e-10 for error shapes spanning 20 standard units).
MEAN_STEP = 1 / 1024
#: Scales from 0 to this are interpolated; others (rare) are integrated directly.
MEAN_TABLE_MAX = 32.0
#: Error shapes whose tabulated ``mean_exp`` a process keeps (a model has a few).
MEAN_TABLES_KEPT = 64
_MEAN_TABLES: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

#: z values are clipped here: beyond it the tail probability is below float precision
#: of the models anyway, and infinities would poison sums and rankings.
Z_LIMIT = 8.0


class Forecast(ABC):
    """Predictive distribution for each series (rows) and month (columns).

    Attributes
    ----------
    periods : pandas.PeriodIndex
        The months predicted.
    """

    periods: pd.PeriodIndex

    @property
    @abstractmethod
    def mean(self) -> np.ndarray:
        """Expected value (the optimal point forecast under squared error)."""

    @property
    @abstractmethod
    def std(self) -> np.ndarray:
        """Standard deviation of the predictive distribution."""

    @abstractmethod
    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        """The ``q``-quantile, ``0 < q < 1`` (a scalar, or an array per series)."""

    @abstractmethod
    def cdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(P(X < x), P(X <= x))``: they differ where ``x`` is an atom (zero trade)."""

    def interval(self, coverage: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Prediction interval ``(lower, upper)`` that holds the actual with ``coverage``.

        Equal-tailed where the distribution is continuous there. Where "no trade" (an
        atom at zero) holds more than the lower tail's share, the interval starts at
        zero and ends at the ``coverage`` quantile: an equal-tailed interval would then
        hold the actual more often than stated, since every zero month falls inside.

        Examples
        --------
        >>> f = HurdleLogForecast(pd.period_range("2022-01", periods=1, freq="M"),
        ...     p_nonzero=np.ones((1, 1)), loc=np.zeros((1, 1)), scale=np.ones((1, 1)))
        >>> [round(float(b[0, 0]), 3) for b in f.interval(0.9)]
        [0.193, 5.18]
        """
        if not 0 < coverage < 1:
            raise ValueError(f"coverage must lie strictly between 0 and 1, got {coverage}")
        tail = (1 - coverage) / 2
        lower = self.quantile(tail)
        upper = np.where(lower <= 0, self.quantile(coverage), self.quantile(1 - tail))
        return lower, upper

    def pit(self, actual: np.ndarray) -> np.ndarray:
        """Probability integral transform of observed values (mid-point at atoms).

        Under a calibrated forecast it is uniform on (0, 1); ``NaN`` where ``actual``
        is ``NaN``.
        """
        below, at_or_below = self.cdf(actual)
        return 0.5 * (below + at_or_below)

    def z(self, actual: np.ndarray) -> np.ndarray:
        """Standard-normal score of each observation under its predictive distribution.

        ``z = Φ⁻¹(PIT)``: the same scale for every series whatever its size or model;
        higher means the actual lies further above what was expected.
        """
        pit = np.clip(self.pit(actual), ndtr(-Z_LIMIT), ndtr(Z_LIMIT))
        return ndtri(pit)


class ErrorShape:
    """A standardised error distribution given by its quantiles, with exponential tails.

    Models fit on ``log(value)`` learn the *shape* of their standardised errors from
    the data (monthly trade is left-skewed in logs: an odd tiny shipment is common, a
    month ten times the usual is rare), rather than assume a normal. ``None`` in
    :class:`HurdleLogForecast` means the standard normal.

    Parameters
    ----------
    table : numpy.ndarray
        Increasing quantiles at levels ``(k + 0.5) / K``, ``k = 0..K-1``.

    Examples
    --------
    >>> shape = ErrorShape.from_sample(np.random.default_rng(0).normal(size=100_000))
    >>> round(float(shape.quantile(np.array(0.975))), 1)
    2.0
    """

    def __init__(self, table: np.ndarray) -> None:
        self.table = np.asarray(table, dtype=np.float64)
        k = len(self.table)
        self.levels = (np.arange(k) + 0.5) / k
        # Tail decay: spacing of the outer tenth of the table, as for an exponential.
        tenth = max(k // 10, 1)
        self._lower_decay = max((self.table[tenth] - self.table[0]) / np.log(2 * tenth + 1), 1e-3)
        self._upper_decay = max(
            (self.table[-1] - self.table[-1 - tenth]) / np.log(2 * tenth + 1), 1e-3
        )

    @classmethod
    def from_sample(cls, sample: np.ndarray, n_levels: int = 100) -> ErrorShape:
        """Shape from a sample of standardised errors (recentred to median zero)."""
        sample = np.asarray(sample, dtype=np.float64)
        sample = sample[np.isfinite(sample)]
        levels = (np.arange(n_levels) + 0.5) / n_levels
        table = np.quantile(sample, levels)
        return cls(np.maximum.accumulate(table - np.median(sample)))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Quantile function, exponential beyond the outermost tabulated levels."""
        u = np.clip(u, 1e-15, 1 - 1e-15)
        inner = np.interp(u, self.levels, self.table)
        with np.errstate(divide="ignore"):
            low = self.table[0] + self._lower_decay * np.log(u / self.levels[0])
            high = self.table[-1] - self._upper_decay * np.log((1 - u) / (1 - self.levels[-1]))
        return np.where(u < self.levels[0], low, np.where(u > self.levels[-1], high, inner))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Distribution function, the inverse of :meth:`quantile` (the exponential tails
        computed for the values in them only)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.asarray(np.interp(x, self.table, self.levels))
        low = x < self.table[0]
        out[low] = self.levels[0] * np.exp((x[low] - self.table[0]) / self._lower_decay)
        high = x > self.table[-1]
        out[high] = 1 - (1 - self.levels[-1]) * np.exp(
            -(x[high] - self.table[-1]) / self._upper_decay
        )
        return out

    def mean_exp(self, scale: np.ndarray) -> np.ndarray:
        """``E[exp(scale · e)]`` for each scale: turns a log-space median into a mean.

        Integrated over :data:`MEAN_GRID` levels, so the exponential tails count; the
        far tails beyond the grid are left out (with exponential tails in log space the
        full mean may not exist).
        """
        scale = np.asarray(scale, dtype=np.float64)
        flat = scale.reshape(-1)
        out = np.full_like(flat, np.nan)
        tabulated = (flat >= 0) & (flat <= MEAN_TABLE_MAX)
        direct = ~tabulated & ~np.isnan(flat)
        # Each value depends on nothing but itself and the fixed tabulation points, not
        # on which other values share the call: chunked and distributed scoring match
        # in-memory runs.
        out[tabulated] = self._interpolated_mean_exp(flat[tabulated])
        out[direct] = np.exp(self._log_mean_exp(flat[direct])[0])
        return out.reshape(scale.shape)

    def _log_mean_exp(self, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log E[exp(scale · e)]`` and its derivative in ``scale``, integrated over the
        grid, block by block (not as one values × levels array: 15 GiB for 1.9M series)."""
        grid = self._grid_values
        log_mean = np.empty_like(scale)
        slope = np.empty_like(scale)
        for start in range(0, scale.size, MEAN_BLOCK):
            exponent = np.multiply.outer(scale[start : start + MEAN_BLOCK], grid)
            top = exponent.max(axis=-1, keepdims=True)
            weight = np.exp(exponent - top)
            total = weight.sum(axis=-1)
            log_mean[start : start + MEAN_BLOCK] = top[:, 0] + np.log(total / grid.size)
            slope[start : start + MEAN_BLOCK] = (weight @ grid) / total
        return log_mean, slope

    def _interpolated_mean_exp(self, scale: np.ndarray) -> np.ndarray:
        """``mean_exp`` of scales in ``[0, MEAN_TABLE_MAX]`` by cubic Hermite interpolation
        of its log between the points ``k · MEAN_STEP`` (integrated once, then kept)."""
        position = scale / MEAN_STEP
        node = np.minimum(np.floor(position), MEAN_TABLE_MAX / MEAN_STEP - 1).astype(np.int64)
        log_mean, slope = self._mean_table(int(node.max(initial=0)) + 2)
        t = position - node
        t2, t3 = t * t, t * t * t
        log_value = (
            (2 * t3 - 3 * t2 + 1) * log_mean[node]
            + (t3 - 2 * t2 + t) * MEAN_STEP * slope[node]
            + (-2 * t3 + 3 * t2) * log_mean[node + 1]
            + (t3 - t2) * MEAN_STEP * slope[node + 1]
        )
        return np.exp(log_value)

    def _mean_table(self, n_points: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n_points`` tabulation points (at least), integrating those not yet
        kept; each point's value depends on its scale and the shape's table only.

        Kept per shape table, not per object: each forecast builds its shape objects
        anew from the same few tables.
        """
        key = self.table.tobytes()
        kept = _MEAN_TABLES.get(key, (np.empty(0), np.empty(0)))
        if len(kept[0]) < n_points:
            # Grown by whole blocks of 1024 points, so a few calls fill the table.
            wanted = -(-n_points // 1024) * 1024
            scales = np.arange(len(kept[0]), wanted) * MEAN_STEP
            log_mean, slope = self._log_mean_exp(scales)
            kept = (np.concatenate([kept[0], log_mean]), np.concatenate([kept[1], slope]))
            if len(_MEAN_TABLES) >= MEAN_TABLES_KEPT and key not in _MEAN_TABLES:
                _MEAN_TABLES.clear()
            _MEAN_TABLES[key] = kept
        return kept

    @property
    def _grid_values(self) -> np.ndarray:
        if not hasattr(self, "_grid_cache"):
            self._grid_cache = self.quantile((np.arange(MEAN_GRID) + 0.5) / MEAN_GRID)
        return self._grid_cache


class StratifiedErrorShape:
    """One :class:`ErrorShape` per stratum of series, bound to each row's stratum.

    Sparse and regular flows err differently in logs (a level estimated from three
    shipments is far less sure); one pooled shape would widen the regular flows' bands.

    Parameters
    ----------
    shapes : sequence of ErrorShape
    strata : numpy.ndarray
        ``(n_series, 1)`` stratum of each row.
    """

    def __init__(self, shapes: list[ErrorShape], strata: np.ndarray) -> None:
        self.shapes = shapes
        self.strata = strata

    def _apply(self, method: str, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        strata = np.broadcast_to(self.strata, values.shape)
        out = np.empty_like(values)
        for k, shape in enumerate(self.shapes):
            mask = strata == k
            out[mask] = getattr(shape, method)(values[mask])
        return out

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Each row's own stratum's quantile function."""
        return self._apply("quantile", u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Each row's own stratum's distribution function."""
        return self._apply("cdf", x)

    def mean_exp(self, scale: np.ndarray) -> np.ndarray:
        """Each row's ``E[exp(scale · e)]`` under its stratum's shape."""
        return self._apply("mean_exp", scale)


def _checked_level(q: float | np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    if np.any((q <= 0) | (q >= 1)):
        raise ValueError(f"quantile levels must lie strictly between 0 and 1, got {q}")
    return q


class HurdleLogForecast(Forecast):
    """Zero with probability ``1 - p``, else ``max(exp(loc + scale · e) - shift, 0)``.

    The hurdle puts a mass on "no trade declared" months, which most small bilateral
    product flows have; the log part carries their multiplicative noise. ``shift`` lets
    models fitted on ``log(1 + value)`` (``shift=1``) share the class.

    Parameters
    ----------
    periods : pandas.PeriodIndex
    p_nonzero, loc, scale : numpy.ndarray
        ``(n_series, n_months)`` arrays (broadcast views are fine).
    shape : ErrorShape, optional
        Distribution of the standardised log error; standard normal if ``None``.
    mean_factor : numpy.ndarray, optional
        ``E[value | trade] / exp(loc)`` when estimated apart from the shape (e.g. by
        smearing each series' own residuals); by default implied by ``shape``.
    shift : float
        Offset of the log transform the model was fitted on.
    """

    def __init__(
        self,
        periods: pd.PeriodIndex,
        *,
        p_nonzero: np.ndarray,
        loc: np.ndarray,
        scale: np.ndarray,
        shape: ErrorShape | StratifiedErrorShape | None = None,
        mean_factor: np.ndarray | None = None,
        shift: float = 0.0,
    ) -> None:
        self.periods = periods
        self.p_nonzero = p_nonzero
        self.loc = loc
        self.scale = scale
        self.shape = shape
        self.mean_factor = mean_factor
        self.shift = shift

    def _error_quantile(self, u: np.ndarray) -> np.ndarray:
        if self.shape is None:
            return ndtri(np.clip(u, 1e-15, 1 - 1e-15))
        return self.shape.quantile(u)

    def _error_cdf(self, x: np.ndarray) -> np.ndarray:
        return ndtr(x) if self.shape is None else self.shape.cdf(x)

    def _mean_exp(self, scale: np.ndarray) -> np.ndarray:
        if self.shape is None:
            return np.exp(0.5 * scale**2)
        return self.shape.mean_exp(scale)

    @property
    def mean(self) -> np.ndarray:
        if self.shift and self.shape is None:
            positive = _normal_call_price(self.loc, self.scale, self.shift)
        else:
            factor = self._mean_exp(self.scale) if self.mean_factor is None else self.mean_factor
            positive = np.maximum(np.exp(self.loc) * factor - self.shift, 0.0)
        return self.p_nonzero * positive

    @property
    def std(self) -> np.ndarray:
        # Moments of Y = exp(loc + scale·e) rescaled to the model's mean factor, then of
        # X = Y - shift under the hurdle; the clip at zero is ignored (it only narrows).
        implied = self._mean_exp(self.scale)
        factor = implied if self.mean_factor is None else self.mean_factor
        first = np.exp(self.loc) * factor
        second = np.exp(2 * self.loc) * self._mean_exp(2 * self.scale) * (factor / implied) ** 2
        shifted_first = first - self.shift
        shifted_second = second - 2 * self.shift * first + self.shift**2
        variance = self.p_nonzero * shifted_second - (self.p_nonzero * shifted_first) ** 2
        return np.sqrt(np.maximum(variance, 0.0))

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        q = _checked_level(q)
        inner = (q - (1 - self.p_nonzero)) / np.maximum(self.p_nonzero, 1e-12)
        positive = np.exp(self.loc + self.scale * self._error_quantile(inner)) - self.shift
        return np.where(inner > 0, np.maximum(positive, 0.0), 0.0)

    def cdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        zero_mass = 1 - self.p_nonzero
        with np.errstate(divide="ignore", invalid="ignore"):
            standard = (np.log(np.maximum(x, 0.0) + self.shift) - self.loc) / self.scale
        # With a shift, values below zero are clipped to it: part of the mass sits at 0.
        positive_cdf = np.where((x > 0) | (self.shift > 0), self._error_cdf(standard), 0.0)
        at_or_below = np.where(x >= 0, zero_mass + self.p_nonzero * positive_cdf, 0.0)
        below = np.where(x > 0, at_or_below, 0.0)
        missing = np.isnan(x)
        return np.where(missing, np.nan, below), np.where(missing, np.nan, at_or_below)


def _normal_call_price(loc: np.ndarray, scale: np.ndarray, shift: float) -> np.ndarray:
    """``E[max(exp(Y) - shift, 0)]`` for ``Y ~ N(loc, scale²)`` (Black–Scholes form)."""
    scale = np.maximum(scale, 1e-12)
    d2 = (loc - np.log(shift)) / scale
    return np.exp(loc + 0.5 * scale**2) * ndtr(d2 + scale) - shift * ndtr(d2)


class ClippedNormalForecast(Forecast):
    """``max(Y, 0)`` with ``Y ~ Normal(loc, scale²)``: a model fitted on raw values.

    Trade cannot be negative, so the mass a normal forecast puts below zero is read
    as "no trade" (an atom at zero).

    Parameters
    ----------
    periods : pandas.PeriodIndex
    loc, scale : numpy.ndarray
        ``(n_series, n_months)``.
    """

    def __init__(self, periods: pd.PeriodIndex, *, loc: np.ndarray, scale: np.ndarray) -> None:
        self.periods = periods
        self.loc = loc
        self.scale = np.maximum(scale, 1e-12)

    @property
    def mean(self) -> np.ndarray:
        ratio = self.loc / self.scale
        density = np.exp(-0.5 * ratio**2) / np.sqrt(2 * np.pi)
        return self.loc * ndtr(ratio) + self.scale * density

    @property
    def std(self) -> np.ndarray:
        ratio = self.loc / self.scale
        density = np.exp(-0.5 * ratio**2) / np.sqrt(2 * np.pi)
        second = (self.loc**2 + self.scale**2) * ndtr(ratio) + self.loc * self.scale * density
        return np.sqrt(np.maximum(second - self.mean**2, 0.0))

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        q = _checked_level(q)
        return np.maximum(self.loc + self.scale * ndtri(q), 0.0)

    def cdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        at_or_below = np.where(x >= 0, ndtr((x - self.loc) / self.scale), 0.0)
        below = np.where(x > 0, at_or_below, 0.0)
        missing = np.isnan(x)
        return np.where(missing, np.nan, below), np.where(missing, np.nan, at_or_below)


class RecalibratedForecast(Forecast):
    """A forecast whose quantiles and CDF are corrected by its out-of-sample PITs.

    If a model's probability integral transforms on held-out months are not uniform,
    the ``q``-quantile of those PITs, ``R(q)``, is the level the model must be asked
    for to get a calibrated ``q``-quantile (Kuleshov et al., 2018). One map per
    stratum of series (``strata``), each a table of ``R`` at :attr:`levels`.

    The expected value and standard deviation are the base model's.

    Parameters
    ----------
    base : Forecast
    strata : numpy.ndarray
        ``(n_series, 1)`` integer stratum of each series.
    tables : numpy.ndarray
        ``(n_strata, n_levels)`` increasing PIT quantiles at :data:`PIT_LEVELS`.
    """

    def __init__(self, base: Forecast, *, strata: np.ndarray, tables: np.ndarray) -> None:
        self.base = base
        self.periods = base.periods
        self.strata = strata
        self.tables = tables

    @property
    def mean(self) -> np.ndarray:
        return self.base.mean

    @property
    def std(self) -> np.ndarray:
        return self.base.std

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        q = _checked_level(q)
        per_stratum = np.array([np.interp(q, PIT_LEVELS, table) for table in self.tables])
        if q.ndim:  # levels per series: each row reads its own stratum's map
            levels = np.take_along_axis(per_stratum, self.strata[None], axis=0)[0]
        else:
            levels = per_stratum[self.strata]
        return self.base.quantile(np.clip(levels, 1e-9, 1 - 1e-9))

    def cdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        below, at_or_below = self.base.cdf(x)
        out_below, out_at = np.empty_like(below), np.empty_like(at_or_below)
        rows = np.broadcast_to(self.strata, below.shape)
        # Where the two are equal (x is no atom), one map serves both.
        apart = ~(below == at_or_below)
        for k, table in enumerate(self.tables):
            mask = rows == k
            out_at[mask] = np.interp(at_or_below[mask], table, PIT_LEVELS)
            mask &= apart
            out_below[mask] = np.interp(below[mask], table, PIT_LEVELS)
        return np.where(apart, out_below, out_at), out_at


#: Levels at which PIT recalibration maps are tabulated (both ends included).
PIT_LEVELS = np.concatenate([[0.0], np.linspace(0.005, 0.995, 199), [1.0]])


def pit_recalibration_table(pit: np.ndarray) -> np.ndarray:
    """``R`` at :data:`PIT_LEVELS` from a sample of out-of-sample PIT values."""
    table = np.quantile(pit[np.isfinite(pit)], PIT_LEVELS)
    table[0], table[-1] = 0.0, 1.0
    # Strictly increasing so the map can be inverted by interpolation.
    return np.maximum.accumulate(table + np.arange(len(table)) * 1e-12)


class EmpiricalForecast(Forecast):
    """A point forecast plus a sample of errors: ``max(point + error, 0)``.

    The form of the baselines analysts use (a pre-war mean with the spread of the
    pre-war months, a seasonal naive with the spread of its past errors).

    Parameters
    ----------
    periods : pandas.PeriodIndex
    point : numpy.ndarray
        ``(n_series, n_months)`` point forecasts.
    errors : numpy.ndarray
        ``(n_series, n_errors)`` past errors of the point forecast, ``NaN`` padded; a
        series with no errors gets a degenerate distribution at its point.
    """

    def __init__(self, periods: pd.PeriodIndex, *, point: np.ndarray, errors: np.ndarray) -> None:
        self.periods = periods
        self.point = point
        self.errors = np.sort(errors, axis=1)  # NaN sort last
        self._n_errors = (~np.isnan(errors)).sum(axis=1, keepdims=True)

    def _samples(self) -> np.ndarray:
        errors = np.where(np.isnan(self.errors), 0.0, self.errors)
        return np.maximum(self.point[:, :, None] + errors[:, None, :], 0.0)

    def _valid(self) -> np.ndarray:
        columns = np.arange(self.errors.shape[1])
        return (columns[None, :] < np.maximum(self._n_errors, 1))[:, None, :]

    @property
    def mean(self) -> np.ndarray:
        samples, valid = self._samples(), self._valid()
        return (samples * valid).sum(axis=2) / valid.sum(axis=2)

    @property
    def std(self) -> np.ndarray:
        samples, valid = self._samples(), self._valid()
        mean = (samples * valid).sum(axis=2, keepdims=True) / valid.sum(axis=2, keepdims=True)
        return np.sqrt(((samples - mean) ** 2 * valid).sum(axis=2) / valid.sum(axis=2))

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        q = _checked_level(q)
        # Linear interpolation between order statistics (numpy's default method), per
        # series over its own number of errors.
        if q.ndim:
            raise ValueError("empirical forecasts take one quantile level at a time")
        n = np.maximum(self._n_errors[:, 0], 1)
        position = q * (n - 1)
        lo = np.floor(position).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        errors = np.where(np.isnan(self.errors), 0.0, self.errors)
        rows = np.arange(len(n))
        # Interpolate between the clipped order statistics: clipping is monotone, so
        # they are the order statistics of the clipped sample.
        below = np.maximum(self.point + errors[rows, lo][:, None], 0.0)
        above = np.maximum(self.point + errors[rows, hi][:, None], 0.0)
        return below + (position - lo)[:, None] * (above - below)

    def cdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        samples, valid = self._samples(), self._valid()
        count = valid.sum(axis=2)
        below = ((samples < x[:, :, None]) & valid).sum(axis=2) / count
        at_or_below = ((samples <= x[:, :, None]) & valid).sum(axis=2) / count
        missing = np.isnan(x)
        return np.where(missing, np.nan, below), np.where(missing, np.nan, at_or_below)
