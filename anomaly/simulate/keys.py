"""Which exporter-declared series exist: trading pairs and products by gravity.

A series is (exporter, importer, HS code), declared by the exporter as ``export``; its
mirror is the importer's ``import`` declaration of the same goods. Pairs are drawn in
proportion to ``size_exporter^0.8 · size_importer^0.7 · affinity`` (a gravity model
without distance), so large economies trade most products with each other and small
ones few, as in real bilateral tables. Affinity raises trade inside the EU single
market and between Russia, Belarus and their post-Soviet neighbours. Products are
drawn independently of the pair, uniformly within two quotas: a share ``chp_share`` of
the series in CHP codes, the rest in the other codes. Duplicate draws are discarded
until ``n_series`` distinct series exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anomaly.simulate.world import (
    COUNTRIES,
    COUNTRY_SIZE,
    EU27,
    HUBS,
    NEUTRAL,
    NON_CHP_CODES,
    SANCTIONED,
    HsCatalogue,
    country_mask,
    hs_catalogue,
)

__all__ = ["SeriesKeys", "catalogue_for", "draw_keys", "encode"]

# Series per non-CHP code beyond which a world gets placeholder codes: keeps the
# busiest pairs from trading every product of a small catalogue.
_SERIES_PER_CODE = 500
# Importers this small (bn USD a year) declare fewer of their imports at HS6 level.
_SMALL_REPORTER = 10.0
_SMALL_REPORTER_COVERAGE = 0.8
_MAX_ROUNDS = 100


@dataclass(frozen=True)
class SeriesKeys:
    """Exporter-declared series as integer codes, one entry per series.

    Attributes
    ----------
    exporter, importer : numpy.ndarray of int
        Indices into :data:`~anomaly.simulate.world.COUNTRIES`.
    hs : numpy.ndarray of int
        Indices into the world's :class:`~anomaly.simulate.world.HsCatalogue`.
    mirror : numpy.ndarray of bool
        Whether the importer declares the mirror import.
    baseline : numpy.ndarray of bool
        Whether the series has ordinary trade; ``False`` for series that exist only
        when a planted scheme fills them.
    """

    exporter: np.ndarray
    importer: np.ndarray
    hs: np.ndarray
    mirror: np.ndarray
    baseline: np.ndarray

    def __len__(self) -> int:
        return len(self.exporter)

    def codes(self, n_hs: int) -> np.ndarray:
        """One int64 per series, unique per (exporter, importer, hs); see :func:`encode`."""
        return encode(self.exporter, self.importer, self.hs, n_hs)

    def concat(self, other: SeriesKeys) -> SeriesKeys:
        """These series followed by ``other``."""
        return SeriesKeys(
            *(
                np.concatenate([getattr(self, name), getattr(other, name)])
                for name in ("exporter", "importer", "hs", "mirror", "baseline")
            )
        )


def encode(exporter: np.ndarray, importer: np.ndarray, hs: np.ndarray, n_hs: int) -> np.ndarray:
    """Pack (exporter, importer, hs) indices into one sortable int64.

    Examples
    --------
    >>> code = encode(np.array([1]), np.array([2]), np.array([3]), 10)
    >>> bool(code[0] == (1 * len(COUNTRIES) + 2) * 10 + 3)
    True
    """
    n_countries = len(COUNTRIES)
    exporter, importer, hs = (np.asarray(a, dtype=np.int64) for a in (exporter, importer, hs))
    return (exporter * n_countries + importer) * n_hs + hs


def catalogue_for(n_series: int, chp_share: float) -> HsCatalogue:
    """The HS catalogue of a world of ``n_series`` series: larger worlds, more products.

    Examples
    --------
    >>> len(catalogue_for(5_000, 0.2)), len(catalogue_for(1_000_000, 0.2))
    (74, 1650)
    """
    needed = int(np.ceil((1 - chp_share) * n_series / _SERIES_PER_CODE))
    return hs_catalogue(max(0, needed - len(NON_CHP_CODES)))


def pair_weights() -> np.ndarray:
    """Gravity weight of every (exporter, importer) pair, zero on the diagonal.

    Examples
    --------
    >>> w = pair_weights()
    >>> w.shape == (len(COUNTRIES), len(COUNTRIES)), float(w.trace())
    (True, 0.0)
    """
    weights = np.outer(COUNTRY_SIZE**0.8, COUNTRY_SIZE**0.7)
    eu = country_mask(EU27)
    weights[np.ix_(eu, eu)] *= 2.0
    post_soviet = country_mask(HUBS - NEUTRAL) | country_mask(SANCTIONED)
    sanctioned = country_mask(SANCTIONED)
    weights[np.ix_(sanctioned, post_soviet)] *= 4.0
    weights[np.ix_(post_soviet, sanctioned)] *= 4.0
    np.fill_diagonal(weights, 0.0)
    return weights


def draw_keys(
    n_series: int,
    catalogue: HsCatalogue,
    *,
    chp_share: float,
    mirror_coverage: float,
    rng: np.random.Generator,
) -> SeriesKeys:
    """Draw ``n_series`` distinct exporter-declared series, sorted by their code.

    Parameters
    ----------
    n_series : int
        Number of series, at least 1.
    catalogue : HsCatalogue
        Products to draw from.
    chp_share : float
        Share of the series in CHP codes.
    mirror_coverage : float
        Probability that the importer declares the mirror import.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    SeriesKeys

    Examples
    --------
    >>> keys = draw_keys(100, hs_catalogue(), chp_share=0.2, mirror_coverage=0.9,
    ...                  rng=np.random.default_rng(0))
    >>> len(keys), bool((keys.exporter != keys.importer).all())
    (100, True)
    """
    if n_series < 1:
        raise ValueError(f"n_series must be at least 1, got {n_series}")
    n_countries, n_hs = len(COUNTRIES), len(catalogue)
    pair_p = pair_weights().ravel()
    pair_p /= pair_p.sum()
    # CHP and other products are drawn to separate quotas: the 50 CHP codes saturate the
    # busiest pairs long before the other codes do, which would shrink their share.
    n_chp = round(chp_share * n_series)
    codes = np.sort(
        np.concatenate(
            [
                _distinct_draws(n_chp, pair_p, np.flatnonzero(catalogue.chp), n_hs, rng),
                _distinct_draws(
                    n_series - n_chp, pair_p, np.flatnonzero(~catalogue.chp), n_hs, rng
                ),
            ]
        )
    )
    pair, hs = np.divmod(codes, n_hs)
    exporter, importer = np.divmod(pair, n_countries)
    coverage = np.where(
        COUNTRY_SIZE[importer] < _SMALL_REPORTER,
        mirror_coverage * _SMALL_REPORTER_COVERAGE,
        mirror_coverage,
    )
    return SeriesKeys(
        exporter=exporter.astype(np.int16),
        importer=importer.astype(np.int16),
        hs=hs.astype(np.int32),
        mirror=rng.random(n_series) < coverage,
        baseline=np.ones(n_series, dtype=bool),
    )


def _distinct_draws(
    n: int, pair_p: np.ndarray, hs_pool: np.ndarray, n_hs: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` distinct (pair, hs) codes, pairs by ``pair_p``, hs uniform over ``hs_pool``."""
    drawn = np.empty(0, dtype=np.int64)
    acceptance = 1.0
    for _ in range(_MAX_ROUNDS):
        if len(drawn) >= n:
            # The first draw of each key wins, so the result depends on the seed only.
            return drawn[:n]
        batch = int((n - len(drawn)) * 1.2 / acceptance) + 64
        pairs = rng.choice(pair_p.size, size=batch, p=pair_p).astype(np.int64)
        candidates = np.concatenate([drawn, pairs * n_hs + rng.choice(hs_pool, size=batch)])
        _, first = np.unique(candidates, return_index=True)
        unique = candidates[np.sort(first)]
        acceptance = max((len(unique) - len(drawn)) / batch, 0.01)
        drawn = unique
    raise ValueError(f"could not draw {n} distinct series from a world this small")
