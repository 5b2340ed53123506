"""The ordinary consequences of the war, common to every simulated world.

These are not planted schemes and carry no label; a detector must live with them:

- **export controls work**: coalition exports to Russia and Belarus fall from March
  2022 over three months, CHP goods to 2–30% of their path (and are declared in fewer
  months), other goods to 30–90%, as Eurostat shows for 2022 (EU integrated circuits to
  Russia: 622M EUR in 2021, 119M in Jan–Nov 2022).
- **import bans**: coalition imports from Russia and Belarus fall to 20–100%.
- **silence**: Russia and Belarus publish nothing from January 2022; only their
  partners' mirror declarations remain (:func:`stop_reporting`).

Two quirks (:data:`~anomaly.simulate.config.QUIRKS`) change these: ``all-sanctioned``
collapses coalition exports of every good to Russia and Belarus as CHP goods do, and
``partial-stop`` lets Russia and Belarus publish part of January 2022 before they fall
silent.
"""

from __future__ import annotations

import numpy as np

from anomaly.simulate.keys import SeriesKeys
from anomaly.simulate.timeline import REPORTING_STOP, WAR_START, Timeline, multiplier
from anomaly.simulate.world import COALITION, SANCTIONED, HsCatalogue, country_mask

__all__ = ["apply_war", "stop_reporting"]

_RAMP_MONTHS = 3
# Share of months in which a collapsed CHP flow to Russia is still declared.
_COLLAPSED_PRESENCE = 0.7


def apply_war(
    level: np.ndarray,
    present: np.ndarray,
    keys: SeriesKeys,
    catalogue: HsCatalogue,
    timeline: Timeline,
    rng: np.random.Generator,
    *,
    all_sanctioned: bool = False,
) -> None:
    """Apply export controls and import bans to the exporter-declared series in place.

    With ``all_sanctioned``, every good exported by the coalition to Russia and Belarus
    collapses as CHP goods do (to 2–30% of its path, declared in fewer months).

    Examples
    --------
    >>> from anomaly.simulate.world import COUNTRIES, hs_catalogue
    >>> cat = hs_catalogue()
    >>> deu, rus = (int(np.flatnonzero(COUNTRIES == c)[0]) for c in ("DEU", "RUS"))
    >>> keys = SeriesKeys(np.array([deu]), np.array([rus]),
    ...                   np.array([int(np.flatnonzero(cat.codes == "854231")[0])]),
    ...                   np.array([True]), np.array([True]))
    >>> tl = Timeline.between("2021-01", "2023-12")
    >>> level, present = np.ones((1, len(tl)), np.float32), np.ones((1, len(tl)), bool)
    >>> apply_war(level, present, keys, cat, tl, np.random.default_rng(0))
    >>> bool(level[0, -1] <= 0.3 and level[0, 0] == 1)
    True
    """
    sanctioned, coalition = country_mask(SANCTIONED), country_mask(COALITION)
    chp = catalogue.chp[keys.hs] | all_sanctioned
    exports = np.flatnonzero(coalition[keys.exporter] & sanctioned[keys.importer])
    imports = np.flatnonzero(sanctioned[keys.exporter] & coalition[keys.importer])
    factor = np.exp(
        np.where(
            chp[exports],
            rng.uniform(np.log(0.02), np.log(0.3), len(exports)),
            rng.uniform(np.log(0.3), np.log(0.9), len(exports)),
        )
    )
    rows = np.concatenate([exports, imports])
    factor = np.concatenate([factor, rng.uniform(0.2, 1.0, len(imports))])
    onset = np.full(len(rows), WAR_START.ordinal)
    level[rows] *= multiplier(timeline, onset, factor, _RAMP_MONTHS)

    collapsed = exports[chp[exports]]
    after = timeline.ordinals >= WAR_START.ordinal
    thinned = rng.random((len(collapsed), int(after.sum()))) < _COLLAPSED_PRESENCE
    present[np.ix_(collapsed, np.flatnonzero(after))] &= thinned


def stop_reporting(
    values: np.ndarray,
    reporter: np.ndarray,
    timeline: Timeline,
    *,
    partial_share: float | None = None,
    rng: np.random.Generator | None = None,
) -> None:
    """Blank (NaN) what Russia and Belarus declare from January 2022, in place.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_series, n_months)
        Declared values, NaN where absent.
    reporter : numpy.ndarray of int
        Index into :data:`~anomaly.simulate.world.COUNTRIES` of each row's reporter.
    timeline : Timeline
        The months of ``values``' columns.
    partial_share : float, optional
        The ``partial-stop`` quirk: January 2022 is their last, partial month, in which
        each of their rows is kept with this probability (drawn from ``rng``); nothing
        is declared after it.
    rng : numpy.random.Generator, optional
        Needed with ``partial_share``.

    Examples
    --------
    >>> from anomaly.simulate.world import COUNTRIES
    >>> rus = int(np.flatnonzero(COUNTRIES == "RUS")[0])
    >>> tl = Timeline.between("2021-12", "2022-02")
    >>> values = np.ones((300, 3), np.float32)
    >>> stop_reporting(values, np.full(300, rus), tl, partial_share=1 / 3,
    ...                rng=np.random.default_rng(0))
    >>> bool(np.isnan(values[:, 2]).all()), bool(0.2 < (values[:, 1] == 1).mean() < 0.45)
    (True, True)
    """
    rows = np.flatnonzero(country_mask(SANCTIONED)[reporter])
    first = max(timeline.column(REPORTING_STOP), 0)
    if first >= len(timeline):
        return
    if partial_share is None:
        values[rows, first:] = np.nan
        return
    if rng is None:
        raise ValueError("stop_reporting needs an rng with partial_share")
    values[rows, first + 1 :] = np.nan
    dropped = rows[rng.random(len(rows)) >= partial_share]
    values[dropped, first] = np.nan
