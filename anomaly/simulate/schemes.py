"""Planted effects: how a scheme changes the series it touches.

Each planting is one kind of change applied to a set of exporter-declared series, in
place, on the value and presence matrices of :func:`~anomaly.simulate.paths.baseline_paths`:

- :class:`Rescale` multiplies a series from its onset by a factor reached through a
  geometric ramp (a surge, a boom or a collapse) and may redraw in which months it is
  declared. With ``declared_only`` it changes the exporter's declaration and not the
  goods: the mirror import is built before it is applied (a phantom export).
- :class:`Feed` adds part of the excess of rescaled series to other series, one month
  later for some: the hub's re-export to Russia of what it received.
- :class:`Appear` creates a flow where there was none.
- :class:`Spike` multiplies a single month (a one-off contract).

A planting also names the roles of the series it touches and of their mirror imports,
which become the labels of the simulated world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anomaly.simulate.config import EVASION_SCHEMES
from anomaly.simulate.timeline import Timeline, multiplier

__all__ = ["ACTIVE_PRESENCE", "Appear", "Feed", "Planting", "Rescale", "Spike"]

#: Share of months after the onset in which a surging or appearing flow is declared.
ACTIVE_PRESENCE = 0.92
# Log noise of values that the baseline paths did not generate.
_PLANTED_NOISE_SD = 0.25


@dataclass(frozen=True, kw_only=True, eq=False)
class Planting:
    """Series of one scheme changed in one way.

    Parameters
    ----------
    scheme : str
        Name of the scheme (see :mod:`anomaly.simulate.config`).
    role : str
        Role of the exporter-declared series in the scheme.
    mirror_role : str or None
        Role of their mirror imports, or ``None`` when the mirror is not part of it.
    rows : numpy.ndarray of int
        Exporter-declared series touched.
    onset : numpy.ndarray of int
        First month of the change of each row, as a month ordinal.
    instance : numpy.ndarray of int
        Which instance of the scheme each row belongs to.
    declared_only : bool
        Whether the change is to the exporter's declaration only, applied after the
        mirror imports are derived from the goods shipped.
    """

    scheme: str
    role: str
    mirror_role: str | None
    rows: np.ndarray
    onset: np.ndarray
    instance: np.ndarray
    declared_only: bool = False

    @property
    def evasion(self) -> bool:
        """Whether the scheme is sanctions evasion (else a decoy)."""
        return self.scheme in EVASION_SCHEMES

    def apply(
        self,
        level: np.ndarray,
        present: np.ndarray,
        timeline: Timeline,
        rng: np.random.Generator,
    ) -> None:
        """Change ``level`` and ``present`` (series × month) in place."""
        raise NotImplementedError

    def _after(self, timeline: Timeline) -> np.ndarray:
        return timeline.ordinals[None, :] >= self.onset[:, None]


@dataclass(frozen=True, kw_only=True, eq=False)
class Rescale(Planting):
    """Multiply each row by ``factor`` from its onset, ramping over ``months``.

    ``presence``, when given, changes in which months from the onset on the series is
    declared: a surge (``factor > 1``) becomes regular, declared in at least a share
    ``presence`` of months; a collapse becomes sporadic, declared in at most that share.

    Examples
    --------
    >>> tl = Timeline.between("2022-01", "2022-04")
    >>> level, present = np.ones((1, 4), np.float32), np.ones((1, 4), bool)
    >>> Rescale(scheme="transshipment", role="supplier_export", mirror_role=None,
    ...         rows=np.array([0]), onset=tl.ordinals[[1]], instance=np.array([0]),
    ...         factor=np.array([9.0]), months=np.array([2])).apply(
    ...     level, present, tl, np.random.default_rng(0))
    >>> level.round(1).tolist()
    [[1.0, 3.0, 9.0, 9.0]]
    """

    factor: np.ndarray
    months: np.ndarray
    presence: float | None = None

    def multiplier(self, timeline: Timeline) -> np.ndarray:
        """The multiplicative path of each row, shape (rows, months)."""
        return multiplier(timeline, self.onset, self.factor, self.months)

    def apply(self, level, present, timeline, rng) -> None:
        level[self.rows] *= self.multiplier(timeline)
        if self.presence is None:
            return
        drawn = rng.random((len(self.rows), len(timeline))) < self.presence
        surge = (self.factor > 1)[:, None]
        old = present[self.rows]
        new = np.where(surge, old | drawn, old & drawn)
        present[self.rows] = np.where(self._after(timeline), new, old)


@dataclass(frozen=True, kw_only=True, eq=False)
class Feed(Planting):
    """Add ``share`` of the excess of ``source`` rows to ``rows``, ``lag`` months later.

    Entry ``k`` takes the excess of ``source.rows[source_index[k]]``; several entries may
    feed the same row. ``onset`` is the source's onset plus the lag.
    """

    source: Rescale
    source_index: np.ndarray
    share: np.ndarray
    lag: np.ndarray

    def apply(self, level, present, timeline, rng) -> None:
        source_rows = self.source.rows[self.source_index]
        mult = self.source.multiplier(timeline)[self.source_index]
        # The rows were already rescaled: their excess over the path is level·(1 − 1/m).
        excess = np.where(present[source_rows], level[source_rows] * (1 - 1 / mult), 0.0)
        lagged = self.lag > 0
        excess[lagged, 1:] = excess[lagged, :-1]
        excess[lagged, 0] = 0.0
        noise = np.exp(rng.normal(0.0, _PLANTED_NOISE_SD, excess.shape))
        added = (excess * self.share[:, None] * noise).astype(np.float32)
        np.add.at(level, self.rows, added)
        np.logical_or.at(present, self.rows, added > 0)


@dataclass(frozen=True, kw_only=True, eq=False)
class Appear(Planting):
    """Start each row at its onset at ``10**level10`` a month, ramping over ``months``.

    Examples
    --------
    >>> tl = Timeline.between("2022-01", "2022-12")
    >>> level, present = np.zeros((1, 12), np.float32), np.zeros((1, 12), bool)
    >>> Appear(scheme="from_nothing", role="new_export", mirror_role=None,
    ...        rows=np.array([0]), onset=tl.ordinals[[6]], instance=np.array([0]),
    ...        level10=np.array([6.0]), months=np.array([1])).apply(
    ...     level, present, tl, np.random.default_rng(0))
    >>> bool(present[0, :6].any()), bool(level[0, 6:].min() > 1e5)
    (False, True)
    """

    level10: np.ndarray
    months: np.ndarray

    def apply(self, level, present, timeline, rng) -> None:
        shape = (len(self.rows), len(timeline))
        elapsed = timeline.ordinals[None, :] - self.onset[:, None] + 1
        ramp = np.clip(elapsed / self.months[:, None], 0.0, 1.0)
        noise = np.exp(rng.normal(0.0, _PLANTED_NOISE_SD, shape))
        level[self.rows] = 10.0 ** self.level10[:, None] * ramp * noise
        present[self.rows] = self._after(timeline) & (rng.random(shape) < ACTIVE_PRESENCE)


@dataclass(frozen=True, kw_only=True, eq=False)
class Spike(Planting):
    """Multiply the single onset month of each row by ``factor`` and declare it."""

    factor: np.ndarray

    def apply(self, level, present, timeline, rng) -> None:
        columns = self.onset - timeline.ordinals[0]
        level[self.rows, columns] *= self.factor.astype(np.float32)
        present[self.rows, columns] = True
