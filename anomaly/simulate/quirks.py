"""Quirks of real files: what a world's tables leave out (issue 11's quirk suite).

Each quirk of :data:`~anomaly.simulate.config.QUIRKS` is off by default and draws, when
on, from its own ``quirks`` stream, so a world without quirks is the one the simulator
always built. Two act during the simulation (:mod:`.war`: ``all-sanctioned`` and
``partial-stop``); the others remove published rows after it, as files do:

- ``lag``: a few hubs have not yet published the last months of the world: every row
  they declare (exports and imports) is absent there. Their partners' declarations
  are complete, so a mirror comparison of those months compares something with
  nothing.
- ``revision-gap``: the HS2017 rows of the revised codes are absent: the HS2022 codes
  seem to start in January 2022, though they were traded before.
- ``late-start``: months before ``late_start`` are cut from the file.

:class:`Coverage` records what was left out, so that an evaluation can tell an
artifact of the file from a lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from anomaly.simulate.config import SimulationConfig
from anomaly.simulate.streams import stream
from anomaly.simulate.timeline import REPORTING_STOP, Timeline
from anomaly.simulate.world import COUNTRIES, HS2017_PREDECESSOR, HUBS, SANCTIONED

__all__ = [
    "Coverage",
    "coverage_of",
    "lag_rows",
    "lagged_reporters",
    "late_start_column",
    "partial_stop_rng",
]

# Stream indices of the quirks that draw.
_PARTIAL_STOP, _LAG = 0, 1


@dataclass(frozen=True)
class Coverage:
    """What the files of a simulated world leave out, as set by its quirks.

    Attributes
    ----------
    partial : dict of str to str
        Reporter -> its last month, published only in part (``partial-stop``).
    lagged : dict of str to int
        Reporter -> number of months at the end of the world it has not yet
        published (``lag``).
    absent_predecessors : dict of str to str
        HS2022 code -> its HS2017 predecessor, whose rows are absent
        (``revision-gap``).
    data_start : str or None
        First month of the file when it starts after the simulated start
        (``late-start``), else ``None``.

    Examples
    --------
    >>> Coverage().lagged
    {}
    """

    partial: dict[str, str] = field(default_factory=dict)
    lagged: dict[str, int] = field(default_factory=dict)
    absent_predecessors: dict[str, str] = field(default_factory=dict)
    data_start: str | None = None


def partial_stop_rng(seed: int, block: int) -> np.random.Generator:
    """The stream that decides which rows of ``block`` a partial last month keeps."""
    return stream(seed, "quirks", _PARTIAL_STOP, block)


def lagged_reporters(config: SimulationConfig, seed: int) -> dict[int, int]:
    """Index into :data:`~anomaly.simulate.world.COUNTRIES` -> months not yet published.

    The lagging reporters are ``config.lag_reporters`` hubs (Russia's neighbours and the
    transit hubs, where the mirror comparisons of evasion are made), each missing
    between ``config.lag_months[0]`` and ``config.lag_months[1]`` months; none without
    the ``lag`` quirk.

    Examples
    --------
    >>> lagged = lagged_reporters(SimulationConfig(quirks={"lag"}), seed=0)
    >>> len(lagged), all(1 <= m <= 3 for m in lagged.values())
    (3, True)
    """
    if "lag" not in config.quirks or config.lag_reporters == 0:
        return {}
    rng = stream(seed, "quirks", _LAG)
    hubs = np.flatnonzero(np.isin(COUNTRIES, sorted(HUBS - SANCTIONED)))
    chosen = np.sort(rng.choice(hubs, size=config.lag_reporters, replace=False))
    low, high = config.lag_months
    months = rng.integers(low, high + 1, len(chosen))
    return dict(zip(chosen.tolist(), months.tolist(), strict=True))


def lag_rows(values: np.ndarray, reporter: np.ndarray, lagged: dict[int, int]) -> None:
    """Blank (NaN) the last months of every row of a lagging reporter, in place.

    Examples
    --------
    >>> values = np.ones((2, 4), np.float32)
    >>> lag_rows(values, np.array([5, 6]), {6: 2})
    >>> values.tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, nan, nan]]
    """
    for country, months in lagged.items():
        values[reporter == country, -months:] = np.nan


def late_start_column(config: SimulationConfig, timeline: Timeline) -> int:
    """First column kept in the file: that of ``late_start`` with ``late-start``, else 0.

    Examples
    --------
    >>> tl = Timeline.between("2015-01", "2024-12")
    >>> late_start_column(SimulationConfig(quirks={"late-start"}), tl)
    48
    >>> late_start_column(SimulationConfig(), tl)
    0
    """
    if "late-start" not in config.quirks:
        return 0
    column = timeline.column(config.late_start)
    if not 0 <= column < len(timeline):
        raise ValueError(
            f"late_start {config.late_start} must be inside the simulated months "
            f"{timeline.periods[0]}..{timeline.periods[-1]}"
        )
    return column


def coverage_of(config: SimulationConfig, seed: int, timeline: Timeline) -> Coverage:
    """What the quirks of ``config`` leave out of a world of ``seed`` over ``timeline``."""
    quirks = config.quirks
    partial = {}
    if "partial-stop" in quirks and timeline.periods[0] <= REPORTING_STOP <= timeline.periods[-1]:
        partial = {country: str(REPORTING_STOP) for country in sorted(SANCTIONED)}
    lagged = {str(COUNTRIES[c]): m for c, m in lagged_reporters(config, seed).items()}
    absent = dict(sorted(HS2017_PREDECESSOR.items())) if "revision-gap" in quirks else {}
    start = late_start_column(config, timeline)
    data_start = str(timeline.periods[start]) if "late-start" in quirks else None
    return Coverage(partial, lagged, absent, data_start)
