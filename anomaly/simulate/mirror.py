"""Mirror declarations: what the importer reports for the goods an exporter shipped.

The importer values goods CIF (with freight and insurance), the exporter FOB, so the
import exceeds the export by a margin, here specific to the country pair (mean
``cif_fob_margin``, spread ``cif_fob_margin_sd``, kept within -2%..+25%). For a share
``mirror_lag_share`` of pairs, goods are recorded a month after they leave (sea
freight). Each month carries independent reporting noise (``mirror_noise_sd``); 2% of
months a gross discrepancy seven times larger (misclassification, valuation); 3% of
months traded are missing from the importer's declaration (confidentiality,
thresholds). Real EU-exports versus partner-imports ratios for Central Asia sit near
0.9–1.3 before 2022, with outliers: this is that picture.
"""

from __future__ import annotations

import numpy as np

from anomaly.simulate.config import SimulationConfig
from anomaly.simulate.keys import SeriesKeys
from anomaly.simulate.paths import BLOCK_ROWS
from anomaly.simulate.streams import stream
from anomaly.simulate.world import COUNTRIES

__all__ = ["mirror_values"]

_MISSING, _GROSS = 0.03, 0.02
_GROSS_SCALE = 7.0


def mirror_values(
    level: np.ndarray,
    present: np.ndarray,
    keys: SeriesKeys,
    config: SimulationConfig,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The importers' declarations of the exporter-declared series that have a mirror.

    Parameters
    ----------
    level, present : numpy.ndarray, shape (n_series, n_months)
        Shipped values and whether each month was traded, from the exporter side.
    keys : SeriesKeys
        The series; ``keys.mirror`` says which have a mirror.
    config : SimulationConfig
        Margin, lag and noise settings.
    seed : int
        Seed of the ``mirror`` streams.

    Returns
    -------
    rows : numpy.ndarray of int
        Exporter-declared series with a mirror, in order.
    values : numpy.ndarray of float32, shape (len(rows), n_months)
        The importer's declared values, NaN where absent.

    Examples
    --------
    >>> keys = SeriesKeys(np.array([0, 1]), np.array([1, 0]), np.array([0, 0]),
    ...                   np.array([True, False]), np.array([True, True]))
    >>> level, present = np.full((2, 6), 1e5, np.float32), np.ones((2, 6), bool)
    >>> rows, values = mirror_values(level, present, keys, SimulationConfig(), seed=0)
    >>> rows.tolist(), values.shape, bool(0.5 < np.nanmedian(values) / 1e5 < 1.5)
    ([0], (1, 6), True)
    """
    rng = stream(seed, "mirror")
    n_countries = len(COUNTRIES)
    margin = np.clip(
        rng.normal(config.cif_fob_margin, config.cif_fob_margin_sd, (n_countries, n_countries)),
        -0.02,
        0.25,
    )
    lagged_pair = rng.random((n_countries, n_countries)) < config.mirror_lag_share

    rows = np.flatnonzero(keys.mirror)
    values = np.empty((len(rows), level.shape[1]), dtype=np.float32)
    for block, start in enumerate(range(0, len(rows), BLOCK_ROWS)):
        block_rows = rows[start : start + BLOCK_ROWS]
        rng = stream(seed, "mirror", block)
        exporter, importer = keys.exporter[block_rows], keys.importer[block_rows]
        shipped = np.where(present[block_rows], level[block_rows], np.float32(np.nan))
        lagged = lagged_pair[exporter, importer]
        shipped[lagged, 1:] = shipped[lagged, :-1]
        shipped[lagged, 0] = np.nan

        u = rng.random(shipped.shape, dtype=np.float32)
        noise = rng.standard_normal(shipped.shape, dtype=np.float32) * np.float32(
            config.mirror_noise_sd
        )
        noise[u < _MISSING + _GROSS] *= np.float32(_GROSS_SCALE)
        shipped[u < _MISSING] = np.nan
        log_margin = np.log1p(margin[exporter, importer]).astype(np.float32)[:, None]
        values[start : start + len(block_rows)] = shipped * np.exp(log_margin + noise)
    return rows, values
