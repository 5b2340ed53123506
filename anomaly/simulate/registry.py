"""A registry of exporter-declared series that schemes pick from and add to."""

from __future__ import annotations

import numpy as np

from anomaly.simulate.keys import SeriesKeys, encode
from anomaly.simulate.paths import SeriesParameters
from anomaly.simulate.world import COUNTRIES, COUNTRY_SIZE

__all__ = ["SeriesRegistry"]

_HISTORY_MONTHS = 24


class SeriesRegistry:
    """The exporter-declared series of a world, growing as schemes create new ones.

    Series are known by their code (:func:`~anomaly.simulate.keys.encode`): the drawn
    ones keep their rows, created ones are appended after them. The registry also
    tracks which drawn series a scheme has taken, and which have a mirror.

    Parameters
    ----------
    keys : SeriesKeys
        The drawn series, sorted by code.
    params : SeriesParameters
        Their baseline parameters.
    n_hs : int
        Size of the world's HS catalogue.
    window_start : int
        First onset month (ordinal): series traded two years before it and not
        stopped since are *established*, the only ones schemes pick.
    """

    def __init__(self, keys: SeriesKeys, params: SeriesParameters, n_hs: int, window_start: int):
        self.keys = keys
        self.level10 = params.level10
        self.established = (params.birth <= window_start - _HISTORY_MONTHS) & (
            params.death > window_start + _HISTORY_MONTHS
        )
        self.n_hs = n_hs
        self.codes = keys.codes(n_hs)
        self.free = keys.baseline.copy()
        self.mirror = keys.mirror.copy()
        self.created: dict[int, int] = {}
        self.new: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """Row of each series code, -1 where the series does not exist."""
        position = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        rows = np.where(self.codes[position] == codes, position, -1)
        for k in np.flatnonzero(rows < 0):
            rows[k] = self.created.get(int(codes[k]), -1)
        return rows

    def create(self, codes: np.ndarray, *, baseline: bool, mirror: bool) -> np.ndarray:
        """Add the series of ``codes`` (new and distinct) and return their rows."""
        first = len(self.keys) + len(self.created)
        rows = np.arange(first, first + len(codes))
        self.created.update(zip(codes.tolist(), rows.tolist(), strict=True))
        n = len(codes)
        self.new.append((codes, np.full(n, mirror), np.full(n, baseline)))
        return rows

    def take(self, rows: np.ndarray, *, mirror: bool = False) -> None:
        """Mark drawn rows as used (and, with ``mirror``, as declared by the importer)."""
        drawn = rows[rows < len(self.keys)]
        self.free[drawn] = False
        if mirror:
            self.mirror[drawn] = True

    def pick(
        self,
        rng: np.random.Generator,
        mask: np.ndarray,
        count: int,
        weights: np.ndarray | None = None,
    ) -> np.ndarray:
        """Up to ``count`` free, established drawn rows satisfying ``mask``."""
        candidates = np.flatnonzero(mask & self.free & self.established)
        size = min(count, len(candidates))
        if size == 0:
            return np.empty(0, dtype=np.int64)
        p = None if weights is None else weights[candidates] / weights[candidates].sum()
        return np.sort(rng.choice(candidates, size=size, replace=False, p=p))

    def absent(
        self, exporters: np.ndarray, importers: np.ndarray, hs_pool: np.ndarray
    ) -> np.ndarray:
        """Codes of every series of the pools' product that does not exist yet."""
        e, i, h = (a.ravel() for a in np.meshgrid(exporters, importers, hs_pool, indexing="ij"))
        codes = encode(e[e != i], i[e != i], h[e != i], self.n_hs)
        return codes[self.rows(codes) < 0]

    def create_ordinary(
        self,
        rng: np.random.Generator,
        exporters: np.ndarray,
        importers: np.ndarray,
        hs_pool: np.ndarray,
        count: int,
    ) -> np.ndarray:
        """Create up to ``count`` series with ordinary histories among the given pools,
        exporters chosen in proportion to their size."""
        codes = self.absent(exporters, importers, hs_pool)
        if count == 0 or len(codes) == 0:
            return np.empty(0, dtype=np.int64)
        exporter = codes // (len(COUNTRIES) * self.n_hs)
        p = COUNTRY_SIZE[exporter] ** 0.8
        chosen = rng.choice(codes, size=min(count, len(codes)), replace=False, p=p / p.sum())
        return self.create(chosen, baseline=True, mirror=True)

    def all_keys(self) -> SeriesKeys:
        """The drawn series (with forced mirrors) followed by the created ones."""
        base = SeriesKeys(
            self.keys.exporter, self.keys.importer, self.keys.hs, self.mirror, self.keys.baseline
        )
        if not self.new:
            return base
        codes, mirror, baseline = (np.concatenate(parts) for parts in zip(*self.new, strict=True))
        pair, hs = np.divmod(codes, self.n_hs)
        exporter, importer = np.divmod(pair, len(COUNTRIES))
        extra = SeriesKeys(
            exporter.astype(base.exporter.dtype),
            importer.astype(base.importer.dtype),
            hs.astype(base.hs.dtype),
            mirror,
            baseline,
        )
        return base.concat(extra)
