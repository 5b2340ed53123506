"""Baseline paths: what each series would be with no war and no planted scheme.

A series' log value in month ``t`` is

``level + growth·years(t) + amplitude·season[month(t)] + covid(t) + shift(t) + noise(t)``

and the series is declared in a month with probability ``presence`` (else the month is
absent, as small flows are in real tables). The choices, with their reasons:

- **level**: log10 EUR a month ≈ ``3 + 0.5·log10(size_exporter) + 0.4·log10(size_importer)``
  plus random effects of the product, the exporter's specialisation in it, the pair and
  the series, clipped to 10^2..10^8.5: a lognormal spread of five to six orders of
  magnitude, as between Germany→France and Kyrgyzstan→Armenia in real tables.
- **growth**: about 3% a year, ±5% between series.
- **season**: one of four shared profiles (flat; European with August and December
  dips; Asian with the February lunar new year dip; year-end with a December peak),
  chosen mostly by the exporter's region, with a series-specific amplitude.
- **covid**: the common spring-2020 dip, about ``covid_trough`` at April 2020,
  scaled by a product sensitivity (cars fell most, medicines and computers rose) and a
  series-specific factor.
- **shift**: a share of series jump once (a firm enters or leaves a market), an
  ordinary break that is not evasion.
- **noise**: AR(1) with persistence 0–0.6 and a standard deviation interpolated from
  ``noise_sd[1]`` for flows of 10^3 a month to ``noise_sd[0]`` for 10^7: small flows
  are much noisier. Innovations are Gaussian, or Student-t with ``noise_df`` degrees
  of freedom (same standard deviation, heavier tails).
- **presence**: from about 20% of months for a 10^3 flow to every month from 10^5.6 up
  (moved to larger flows by ``intermittency_shift``);
  8% of series start trading at a random month, 3% stop.

The paths are built in blocks of rows, each block drawing from its own random stream,
so that memory stays near the size of the output and results do not depend on how
many rows came before.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.simulate.config import SimulationConfig
from anomaly.simulate.keys import SeriesKeys
from anomaly.simulate.streams import stream
from anomaly.simulate.timeline import Timeline
from anomaly.simulate.world import (
    COUNTRIES,
    COUNTRY_SIZE,
    COVID_SENSITIVITY,
    EU27,
    HsCatalogue,
    country_mask,
)

__all__ = [
    "LevelEffects",
    "SeriesParameters",
    "baseline_paths",
    "draw_parameters",
    "established",
]

#: Rows per block of the path matrix: a few MiB of float32 per block.
BLOCK_ROWS = 1 << 15

# Log-value profiles over January..December, each with mean zero.
_SEASONS = np.array(
    [
        [0.0] * 12,
        [-0.05, 0.0, 0.1, 0.02, 0.02, 0.05, 0.0, -0.35, 0.05, 0.1, 0.08, -0.25],
        [0.0, -0.35, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.05, 0.05, 0.1],
        [-0.2, -0.05, 0.0, 0.0, 0.0, 0.0, 0.0, -0.05, 0.0, 0.05, 0.05, 0.3],
    ],
    dtype=np.float32,
)
_SEASONS -= _SEASONS.mean(axis=1, keepdims=True)
_EUROPEAN, _ASIAN = 1, 2
_ASIA = ("CHN", "HKG", "JPN", "KOR", "TWN", "VNM", "MYS", "THA", "IDN", "SGP", "PHL")
# Probability that an exporter of a region follows its region's profile.
_REGIONAL_SEASON = 0.7
_BIRTH_SHARE, _DEATH_SHARE = 0.08, 0.03
# The month at which ``level10`` applies; growth runs from here.
_REFERENCE_MONTH = pd.Period("2019-12", freq="M").ordinal
_NEVER = np.int64(np.iinfo(np.int32).max)


@dataclass(frozen=True)
class LevelEffects:
    """Random effects on the log10 level shared by many series.

    Attributes
    ----------
    product : numpy.ndarray
        One per HS code: some goods trade in larger lots than others.
    specialisation : numpy.ndarray
        (country, HS code): what each exporter is good at.
    pair : numpy.ndarray
        (exporter, importer): ties beyond size (language, history, logistics).
    """

    product: np.ndarray
    specialisation: np.ndarray
    pair: np.ndarray

    @classmethod
    def draw(cls, n_hs: int, rng: np.random.Generator) -> LevelEffects:
        """Draw the effects of a world with ``n_hs`` HS codes."""
        n_countries = len(COUNTRIES)
        return cls(
            product=rng.normal(0.0, 0.4, n_hs),
            specialisation=rng.normal(0.0, 0.4, (n_countries, n_hs)),
            pair=rng.normal(0.0, 0.35, (n_countries, n_countries)),
        )


@dataclass(frozen=True)
class SeriesParameters:
    """Per-series parameters of the baseline paths; arrays of one value per series.

    Attributes
    ----------
    level10 : log10 EUR a month in December 2019, when traded.
    growth : log growth a year.
    season, amplitude : index of the seasonal profile and its scale.
    covid : log change at the April 2020 trough.
    noise_sd, persistence : standard deviation and AR(1) coefficient of the noise.
    presence : probability that a month is declared.
    birth, death : first traded month and the month trade stops, as month ordinals
        (months since 1970-01).
    shift_at, shift : month ordinal and log size of a one-off level shift.
    """

    level10: np.ndarray
    growth: np.ndarray
    season: np.ndarray
    amplitude: np.ndarray
    covid: np.ndarray
    noise_sd: np.ndarray
    persistence: np.ndarray
    presence: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    shift_at: np.ndarray
    shift: np.ndarray

    def __len__(self) -> int:
        return len(self.level10)

    def concat(self, other: SeriesParameters) -> SeriesParameters:
        """These parameters followed by ``other``'s."""
        return SeriesParameters(
            **{
                name: np.concatenate([value, getattr(other, name)])
                for name, value in vars(self).items()
            }
        )


def draw_parameters(
    keys: SeriesKeys,
    catalogue: HsCatalogue,
    effects: LevelEffects,
    timeline: Timeline,
    config: SimulationConfig,
    rng: np.random.Generator,
) -> SeriesParameters:
    """Draw the baseline parameters of every series of ``keys``.

    Examples
    --------
    >>> from anomaly.simulate.keys import draw_keys
    >>> from anomaly.simulate.world import hs_catalogue
    >>> rng = np.random.default_rng(0)
    >>> cat = hs_catalogue()
    >>> keys = draw_keys(50, cat, chp_share=0.2, mirror_coverage=0.9, rng=rng)
    >>> p = draw_parameters(keys, cat, LevelEffects.draw(len(cat), rng),
    ...                     Timeline.between("2015-01", "2024-12"), SimulationConfig(), rng)
    >>> bool((p.level10 >= 2).all() and (p.presence <= 1).all())
    True
    """
    n = len(keys)
    exporter, importer, hs = keys.exporter, keys.importer, keys.hs
    level10 = (
        3.0
        + 0.5 * np.log10(COUNTRY_SIZE[exporter])
        + 0.4 * np.log10(COUNTRY_SIZE[importer])
        + effects.product[hs]
        + effects.specialisation[exporter, hs]
        + effects.pair[exporter, importer]
        + rng.normal(0.0, 0.5, n)
    )
    level10 = np.clip(level10, 2.0, 8.5)

    regional = np.select(
        [country_mask(EU27)[exporter], country_mask(_ASIA)[exporter]], [_EUROPEAN, _ASIAN], 0
    )
    season = np.where(
        (regional > 0) & (rng.random(n) < _REGIONAL_SEASON),
        regional,
        rng.integers(0, len(_SEASONS), n),
    )

    sensitivity = np.array([COVID_SENSITIVITY.get(c, 1.0) for c in catalogue.codes])
    covid = np.log1p(-config.covid_trough) * sensitivity[hs] * rng.uniform(0.5, 1.5, n)

    # Noise falls linearly in log10 level from noise_sd[1] at 10^3 to noise_sd[0] at 10^7.
    low, high = config.noise_sd
    small = np.clip((7.0 - level10) / 4.0, 0.0, 1.0)
    noise_sd = (low + (high - low) * small) * rng.uniform(0.85, 1.15, n)

    first, last = timeline.ordinals[0], timeline.ordinals[-1]
    birth = np.where(rng.random(n) < _BIRTH_SHARE, rng.integers(first + 1, last + 1, n), first)
    death = np.where(rng.random(n) < _DEATH_SHARE, rng.integers(first + 1, last + 1, n), _NEVER)
    shift_at = np.where(
        rng.random(n) < config.level_shift_share, rng.integers(first + 1, last + 1, n), _NEVER
    )
    return SeriesParameters(
        level10=level10.astype(np.float32),
        growth=rng.normal(0.03, 0.05, n).astype(np.float32),
        season=season.astype(np.int8),
        amplitude=rng.uniform(0.3, 1.5, n).astype(np.float32),
        covid=covid.astype(np.float32),
        noise_sd=noise_sd.astype(np.float32),
        persistence=rng.uniform(0.0, 0.6, n).astype(np.float32),
        presence=_presence(level10 - config.intermittency_shift),
        birth=birth.astype(np.int64),
        death=death.astype(np.int64),
        shift_at=shift_at.astype(np.int64),
        shift=rng.normal(0.0, 0.5, n).astype(np.float32),
    )


def established(
    params: SeriesParameters,
    timeline: Timeline,
    level10: float,
    intermittency_shift: float = 0.0,
) -> SeriesParameters:
    """``params`` made into series traded throughout, at least ``10**level10`` a month.

    Series created for a scheme that needs an ordinary history get these: a scheme
    changes an established flow, not one that began or ended by chance nearby. Their
    presence follows the world's ``intermittency_shift``.
    """
    n = len(params)
    raised = np.maximum(params.level10, np.float32(level10))
    return dataclasses.replace(
        params,
        level10=raised,
        presence=_presence(raised - intermittency_shift),
        birth=np.full(n, timeline.ordinals[0], dtype=np.int64),
        death=np.full(n, _NEVER, dtype=np.int64),
    )


def baseline_paths(
    params: SeriesParameters, timeline: Timeline, seed: int, noise_df: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Values and presence of every series in every month, before any war effect.

    Parameters
    ----------
    params : SeriesParameters
        One entry per series.
    timeline : Timeline
        The months.
    seed : int
        Seed of the ``paths`` streams, one per block of :data:`BLOCK_ROWS` rows.
    noise_df : float, optional
        Degrees of freedom of Student-t noise innovations; ``None``: Gaussian.

    Returns
    -------
    level : numpy.ndarray of float32, shape (n_series, n_months)
        Value (EUR) of the series in each month if it is traded.
    present : numpy.ndarray of bool, shape (n_series, n_months)
        Whether the month is declared.

    Examples
    --------
    >>> from anomaly.simulate.keys import draw_keys
    >>> from anomaly.simulate.world import hs_catalogue
    >>> rng, cat = np.random.default_rng(0), hs_catalogue()
    >>> tl = Timeline.between("2019-01", "2020-12")
    >>> keys = draw_keys(20, cat, chp_share=0.2, mirror_coverage=0.9, rng=rng)
    >>> p = draw_parameters(keys, cat, LevelEffects.draw(len(cat), rng), tl,
    ...                     SimulationConfig(), rng)
    >>> level, present = baseline_paths(p, tl, seed=0)
    >>> level.shape, level.dtype, bool((level > 0).all())
    ((20, 24), dtype('float32'), True)
    """
    n, n_months = len(params), len(timeline)
    level = np.empty((n, n_months), dtype=np.float32)
    present = np.empty((n, n_months), dtype=bool)
    ordinals = timeline.ordinals
    for block, start in enumerate(range(0, n, BLOCK_ROWS)):
        rows = slice(start, min(start + BLOCK_ROWS, n))
        rng = stream(seed, "paths", block)
        p = {name: value[rows, None] for name, value in vars(params).items()}
        log_value, _ = _log_mean(p, timeline)
        log_value += _ar1_noise(
            rng, p["persistence"][:, 0], p["noise_sd"][:, 0], n_months, noise_df
        )
        level[rows] = np.exp(log_value)
        present[rows] = (
            (rng.random(log_value.shape, dtype=np.float32) < p["presence"])
            & (ordinals >= p["birth"])
            & (ordinals < p["death"])
        )
    return level, present


def _years_since_reference(timeline: Timeline) -> np.ndarray:
    """Each month's time in years from the reference month of the growth term."""
    return ((timeline.ordinals - _REFERENCE_MONTH) / 12.0).astype(np.float32)


def _log_mean(p: dict[str, np.ndarray], timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """The log value of a block of series before noise, and its seasonal term.

    ``p`` holds the :class:`SeriesParameters` of the block as columns (``name: (rows,
    1)``); both results are ``(rows, months)`` float32.
    """
    ordinals = timeline.ordinals
    season = p["amplitude"] * _SEASONS[:, timeline.month_of_year][p["season"][:, 0]]
    log_value = (
        np.float32(np.log(10.0)) * p["level10"]
        + p["growth"] * _years_since_reference(timeline)
        + season
        + p["covid"] * timeline.covid()
        + np.where(ordinals >= p["shift_at"], p["shift"], np.float32(0.0))
    )
    return log_value, season


def _presence(level10: np.ndarray) -> np.ndarray:
    """Probability of a month being declared: about 20% at 10^3 a month, 1 from 10^5.6."""
    return np.clip(0.1 + 0.3 * (level10 - 2.7), 0.08, 1.0).astype(np.float32)


def _ar1_noise(
    rng: np.random.Generator,
    phi: np.ndarray,
    sd: np.ndarray,
    n_months: int,
    noise_df: float | None = None,
) -> np.ndarray:
    """Stationary AR(1) noise with persistence ``phi`` and standard deviation ``sd``.

    Innovations are standard normal, or Student-t with ``noise_df`` degrees of freedom
    scaled to unit variance.
    """
    shape = (len(phi), n_months)
    if noise_df is None:
        innovations = rng.standard_normal(shape, dtype=np.float32)
    else:
        scale = np.sqrt((noise_df - 2.0) / noise_df)
        innovations = (rng.standard_t(noise_df, shape) * scale).astype(np.float32)
    # Fortran order makes each month's column contiguous for the recursion.
    noise = np.asfortranarray(innovations)
    innovation = np.sqrt(1.0 - phi**2)
    for t in range(1, n_months):
        noise[:, t] = phi * noise[:, t - 1] + innovation * noise[:, t]
    return noise * sd[:, None]
