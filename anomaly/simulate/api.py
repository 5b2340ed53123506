"""Simulate a world as the canonical long flows table, with its labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from anomaly.simulate.config import SimulationConfig
from anomaly.simulate.panel import simulate_panel
from anomaly.simulate.quirks import Coverage

__all__ = ["SimulatedWorld", "simulate_world"]


@dataclass(frozen=True, eq=False)
class SimulatedWorld:
    """A simulated world of monthly trade flows with planted, labelled schemes.

    Attributes
    ----------
    flows : pandas.DataFrame
        The canonical flows table (``period, reporter, partner, flow, hs, value``;
        ``attrs["currency"] == "EUR"``), one row per declared series-month, sorted by
        series then month. Absent months have no row.
    labels : pandas.DataFrame
        One row per planted series: ``reporter, partner, flow, hs, scheme, role,
        onset, evasion, instance``; ``evasion`` is False for decoys.
    config : SimulationConfig
        The settings the world was built with.
    coverage : Coverage
        What the files leave out by the quirks of ``config`` (reporters with a partial
        last month or not yet published months, absent HS2017 predecessors, the first
        month of a file that starts late); nothing by default.
    """

    flows: pd.DataFrame
    labels: pd.DataFrame
    config: SimulationConfig
    coverage: Coverage = field(default_factory=Coverage)


def simulate_world(
    n_series: int = 5_000,
    *,
    start: str | pd.Period = "2015-01",
    end: str | pd.Period = "2024-12",
    seed: int = 0,
    schemes: bool = True,
    decoys: bool = True,
    config: SimulationConfig | None = None,
) -> SimulatedWorld:
    """Simulate monthly bilateral trade flows with planted evasion schemes and decoys.

    The long-format view of :func:`~anomaly.simulate.panel.simulate_panel`, which
    documents the parameters and labels; use that directly for worlds of more than
    about 10^5 series, whose long table would not fit in memory comfortably.

    Examples
    --------
    >>> world = simulate_world(1_000, seed=3)
    >>> list(world.flows.columns)
    ['period', 'reporter', 'partner', 'flow', 'hs', 'value']
    >>> world.flows.attrs["currency"], bool((world.flows.value > 0).all())
    ('EUR', True)
    >>> sorted(world.labels.loc[world.labels.evasion, "scheme"].unique())
    ['diffuse_hub', 'from_nothing', 'phantom_export', 'transshipment']
    """
    panel = simulate_panel(
        n_series,
        start=start,
        end=end,
        seed=seed,
        schemes=schemes,
        decoys=decoys,
        config=config,
    )
    return SimulatedWorld(panel.to_flows(), panel.labels, panel.config, panel.coverage)
