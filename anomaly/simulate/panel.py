"""Simulate a world as a panel: a keys table beside a dense (series × month) matrix.

This is the engine; :func:`~anomaly.simulate.api.simulate_world` only turns its result
into the long canonical table. The stages, each in its own module:

1. draw the exporter-declared series (:mod:`.keys`) and their parameters (:mod:`.paths`);
2. plan the schemes (:mod:`.plan`), which may force mirrors and create series;
3. build the baseline paths (:mod:`.paths`), apply the war (:mod:`.war`) and the
   shipment schemes (:mod:`.schemes`);
4. derive the importers' mirror declarations (:mod:`.mirror`), then apply what changes
   only the exporter's declaration (phantom exports);
5. silence Russia and Belarus from 2022 (:mod:`.war`), move pre-2022 months of revised
   codes to HS2017 series (:mod:`.revision`), leave out what the quirks of real files
   leave out (:mod:`.quirks`), drop series never declared, sort.

Everything is vectorised over the series; the only Python loops run over months,
blocks of rows, or planted instances. 10^6 exporter-declared series over 120 months
(1.9 million series with mirrors) take about 15 s of one core and 3 GiB at the peak.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomaly.io.validate import MAX_VALUE
from anomaly.schema import CANONICAL_COLUMNS, SERIES_KEY_COLUMNS
from anomaly.simulate.config import SimulationConfig
from anomaly.simulate.keys import SeriesKeys, catalogue_for, draw_keys
from anomaly.simulate.mirror import mirror_values
from anomaly.simulate.paths import (
    BLOCK_ROWS,
    LevelEffects,
    SeriesParameters,
    baseline_paths,
    draw_parameters,
    established,
)
from anomaly.simulate.plan import Plan, plan_schemes
from anomaly.simulate.quirks import (
    Coverage,
    coverage_of,
    lag_rows,
    lagged_reporters,
    late_start_column,
    partial_stop_rng,
)
from anomaly.simulate.revision import split_revision
from anomaly.simulate.schemes import Planting
from anomaly.simulate.streams import stream
from anomaly.simulate.timeline import Timeline
from anomaly.simulate.war import apply_war, stop_reporting
from anomaly.simulate.world import COUNTRIES, HsCatalogue

__all__ = ["LABEL_COLUMNS", "SimulatedPanel", "simulate_panel"]

#: Columns of the labels table, in order.
LABEL_COLUMNS: tuple[str, ...] = (
    *SERIES_KEY_COLUMNS,
    "scheme",
    "role",
    "onset",
    "evasion",
    "instance",
)
_FLOW_NAMES = np.array(["export", "import"])
# Series created for a scheme trade at least 10^4 EUR a month.
_CREATED_LEVEL10 = 4.0


@dataclass(frozen=True, eq=False)
class SimulatedPanel:
    """A simulated world as a panel.

    Attributes
    ----------
    keys : pandas.DataFrame
        One row per series (``reporter, partner, flow, hs``), sorted, ``RangeIndex``.
    periods : pandas.PeriodIndex
        The months, one per column of :attr:`values`.
    values : numpy.ndarray of float32, shape (len(keys), len(periods))
        Declared values in whole EUR; NaN where the month is absent.
    labels : pandas.DataFrame
        Planted series: ``reporter, partner, flow, hs, scheme, role, onset, evasion,
        instance`` (see :func:`simulate_panel`).
    config : SimulationConfig
        The settings the world was built with.
    coverage : Coverage
        What the files leave out by the quirks of ``config`` (nothing by default).

    Notes
    -----
    The layout is that of :class:`anomaly.panel.Panel`:
    ``Panel(p.keys, p.periods, p.values, currency="EUR")`` wraps it.
    """

    keys: pd.DataFrame
    periods: pd.PeriodIndex
    values: np.ndarray
    labels: pd.DataFrame
    config: SimulationConfig
    coverage: Coverage = field(default_factory=Coverage)

    def to_flows(self) -> pd.DataFrame:
        """The canonical long flows table: one row per declared series-month.

        Examples
        --------
        >>> panel = simulate_panel(200, seed=1, schemes=False, decoys=False)
        >>> flows = panel.to_flows()
        >>> len(flows) == int((~np.isnan(panel.values)).sum()), flows.attrs["currency"]
        (True, 'EUR')
        """
        rows, columns = np.nonzero(~np.isnan(self.values))
        flows = pd.DataFrame(
            {
                "period": self.periods.take(columns),
                **{name: self.keys[name].to_numpy()[rows] for name in SERIES_KEY_COLUMNS},
                "value": self.values[rows, columns].astype(np.float64),
            }
        )[list(CANONICAL_COLUMNS)]
        flows.attrs["currency"] = "EUR"
        return flows


def simulate_panel(
    n_series: int = 5_000,
    *,
    start: str | pd.Period = "2015-01",
    end: str | pd.Period = "2024-12",
    seed: int = 0,
    schemes: bool = True,
    decoys: bool = True,
    config: SimulationConfig | None = None,
) -> SimulatedPanel:
    """Simulate monthly bilateral trade with planted evasion schemes, as a panel.

    Parameters
    ----------
    n_series : int
        Number of exporter-declared series drawn; the importers' mirror declarations,
        the HS2017 series of revised codes and the series created by schemes come on
        top, and series never declared are dropped.
    start, end : str or pandas.Period
        First and last month. Planting needs the onset window inside them.
    seed : int
        Non-negative seed: the same seed gives the same world.
    schemes : bool
        Plant the evasion schemes (``transshipment``, ``phantom_export``,
        ``diffuse_hub``, ``from_nothing``).
    decoys : bool
        Plant the decoys (``demand_boom``, ``one_off_contract``,
        ``compliance_collapse``).
    config : SimulationConfig, optional
        Settings; defaults to ``SimulationConfig()``. Its ``quirks`` reproduce what
        real files leave out (see :data:`~anomaly.simulate.config.QUIRKS`); with
        ``late-start`` the panel's months begin at ``config.late_start``.

    Returns
    -------
    SimulatedPanel
        Its ``labels`` hold one row per planted series present in the panel:
        ``scheme``, the series' ``role`` in it (``supplier_export``, ``hub_import``,
        ``hub_export``, ``declared_export``, ``new_export``, ``new_import``,
        ``destination_import``, ``contract_export``, ``contract_import``,
        ``collapsed_export``), the ``onset`` month, ``evasion`` (False for decoys) and
        the ``instance`` of the scheme it belongs to.

    Notes
    -----
    With the same seed, ``schemes=False, decoys=False`` gives the same world without
    the plants: every series that is not labelled is identical, which makes it the exact
    counterfactual of the planted world.

    Examples
    --------
    >>> panel = simulate_panel(1_000, seed=7)
    >>> panel.values.shape[1], str(panel.periods[0])
    (120, '2015-01')
    >>> sorted(panel.labels.scheme.unique())[:2]
    ['compliance_collapse', 'demand_boom']
    """
    config = config if config is not None else SimulationConfig()
    if not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(n_series, numbers.Integral) or n_series < 1:
        raise ValueError(f"n_series must be a positive integer, got {n_series!r}")
    seed, n_series = int(seed), int(n_series)
    timeline = Timeline.between(start, end)
    world = _draw(n_series, seed, timeline, config, schemes=schemes, decoys=decoys)
    keys, plantings = world.keys, world.plantings
    exports, mirror_rows, mirror = _declarations(
        keys, world.params, world.catalogue, timeline, config, seed, plantings
    )
    blocks = _blocks(world, timeline, config, seed, exports, mirror_rows, mirror)
    first = late_start_column(config, timeline)
    if first > 0:
        blocks = [dataclasses.replace(b, values=b.values[:, first:]) for b in blocks]
    table, values, positions = _assemble(blocks)

    mirror_position = np.full(len(keys), -1, dtype=np.int64)
    mirror_position[mirror_rows] = positions[1]
    labels = _labels([p for _, p in plantings], table, positions[0], mirror_position)
    coverage = coverage_of(config, seed, timeline)
    return SimulatedPanel(table, timeline.periods[first:], values, labels, config, coverage)


@dataclass(frozen=True)
class _Drawn:
    """The series of a world and their parameters, before any value is drawn."""

    keys: SeriesKeys
    params: SeriesParameters
    catalogue: HsCatalogue
    plantings: list[tuple[int, Planting]]


def _draw(
    n_series: int,
    seed: int,
    timeline: Timeline,
    config: SimulationConfig,
    *,
    schemes: bool,
    decoys: bool,
) -> _Drawn:
    """The keys and parameters of :func:`simulate_panel`'s series, with the series the
    plan creates and the plantings switched on."""
    catalogue = catalogue_for(n_series, config.chp_share)
    keys = draw_keys(
        n_series,
        catalogue,
        chp_share=config.chp_share,
        mirror_coverage=config.mirror_coverage,
        rng=stream(seed, "keys"),
    )
    rng = stream(seed, "parameters")
    effects = LevelEffects.draw(len(catalogue), rng)
    params = draw_parameters(keys, catalogue, effects, timeline, config, rng)
    plan = _plan(keys, params, catalogue, timeline, config, seed, schemes or decoys)
    plantings: list[tuple[int, Planting]] = []
    if plan is not None:
        created = _tail(plan.keys, len(keys))
        extra = draw_parameters(created, catalogue, effects, timeline, config, stream(seed, "plan"))
        keys = plan.keys
        params = params.concat(
            established(extra, timeline, _CREATED_LEVEL10, config.intermittency_shift)
        )
        plantings = [
            (i, p) for i, p in enumerate(plan.plantings) if (schemes if p.evasion else decoys)
        ]
    return _Drawn(keys, params, catalogue, plantings)


def _blocks(
    world: _Drawn,
    timeline: Timeline,
    config: SimulationConfig,
    seed: int,
    exports: np.ndarray,
    mirror_rows: np.ndarray,
    mirror: np.ndarray,
) -> list[_Block]:
    """The declarations as the files hold them: reporters' stops, the HS revision's
    split and the publication lags applied (in place) to the exporters' and the
    mirror declarations, each kind its own block."""
    keys = world.keys
    hs = world.catalogue.codes[keys.hs]
    blocks = [
        _Block(keys.exporter, keys.importer, 0, hs, exports),
        _Block(keys.importer[mirror_rows], keys.exporter[mirror_rows], 1, hs[mirror_rows], mirror),
    ]
    quirks = config.quirks
    lagged = lagged_reporters(config, seed)
    for i, block in enumerate(list(blocks)):
        if "partial-stop" in quirks:
            stop_reporting(
                block.values,
                block.reporter,
                timeline,
                partial_share=config.partial_stop_share,
                rng=partial_stop_rng(seed, i),
            )
        else:
            stop_reporting(block.values, block.reporter, timeline)
        old = split_revision(block.values, block.reporter, block.partner, block.hs, timeline)
        if "revision-gap" not in quirks:
            blocks.append(_Block(old.reporter, old.partner, block.flow, old.hs, old.values))
    for block in blocks:
        lag_rows(block.values, block.reporter, lagged)
    return blocks


def _declarations(
    keys: SeriesKeys,
    params: SeriesParameters,
    catalogue: HsCatalogue,
    timeline: Timeline,
    config: SimulationConfig,
    seed: int,
    plantings: list[tuple[int, Planting]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exporters' declarations (NaN where absent), and the rows and values of the
    importers' mirror declarations."""
    level, present = baseline_paths(params, timeline, seed, config.noise_df)
    level[~keys.baseline] = 0.0
    present[~keys.baseline] = False
    apply_war(
        level,
        present,
        keys,
        catalogue,
        timeline,
        stream(seed, "war"),
        all_sanctioned="all-sanctioned" in config.quirks,
    )
    # Goods move first; the mirror sees them; then what only the exporter declares.
    for i, planting in plantings:
        if not planting.declared_only:
            planting.apply(level, present, timeline, stream(seed, "plan", i))
    mirror_rows, mirror = mirror_values(level, present, keys, config, seed)
    for i, planting in plantings:
        if planting.declared_only:
            planting.apply(level, present, timeline, stream(seed, "plan", i))
    level[~present] = np.nan
    return level, mirror_rows, mirror


def _plan(
    keys: SeriesKeys,
    params: SeriesParameters,
    catalogue: HsCatalogue,
    timeline: Timeline,
    config: SimulationConfig,
    seed: int,
    required: bool,
) -> Plan | None:
    """The plan, made whenever the window allows so that plants can be switched off
    without changing anything else; ``None`` for windows that end before the onsets."""
    last = pd.Period(config.onset_window[1], freq="M").ordinal
    first = pd.Period(config.onset_window[0], freq="M").ordinal
    if not required and not (timeline.ordinals[0] <= first and last <= timeline.ordinals[-1]):
        return None
    return plan_schemes(keys, params, catalogue, timeline, config, seed)


def _tail(keys: SeriesKeys, start: int) -> SeriesKeys:
    return SeriesKeys(*(getattr(keys, f.name)[start:] for f in dataclasses.fields(SeriesKeys)))


@dataclass(frozen=True)
class _Block:
    """Declarations of one kind (exports, mirror imports, or their HS2017 parts)."""

    reporter: np.ndarray
    partner: np.ndarray
    flow: int
    hs: np.ndarray
    values: np.ndarray


def _declared(values: np.ndarray) -> np.ndarray:
    """Rows with at least one declared month, computed in blocks to bound memory."""
    out = np.empty(len(values), dtype=bool)
    for start in range(0, len(values), BLOCK_ROWS):
        out[start : start + BLOCK_ROWS] = ~np.isnan(values[start : start + BLOCK_ROWS]).all(axis=1)
    return out


def _assemble(blocks: list[_Block]) -> tuple[pd.DataFrame, np.ndarray, list[np.ndarray]]:
    """Sort the declared rows of all blocks into one keys table and one matrix.

    Returns the keys, the matrix, and for each block the output row of each of its
    rows (-1 for rows never declared). Values are whole euros from one to the data
    contract's ceiling (:data:`~anomaly.io.validate.MAX_VALUE`), which a Student-t tail
    of the log noise can pass (``noise_df=3`` drew 2e23 in one month).
    """
    kept = [np.flatnonzero(_declared(b.values)) for b in blocks]
    reporter = np.concatenate([b.reporter[k] for b, k in zip(blocks, kept, strict=True)])
    partner = np.concatenate([b.partner[k] for b, k in zip(blocks, kept, strict=True)])
    flow = np.concatenate([np.full(len(k), b.flow) for b, k in zip(blocks, kept, strict=True)])
    hs_codes, hs = np.unique(
        np.concatenate([b.hs[k] for b, k in zip(blocks, kept, strict=True)]), return_inverse=True
    )
    # COUNTRIES and hs_codes are sorted, so sorting indices sorts the codes.
    order = np.lexsort((hs, flow, partner, reporter))
    output_row = np.empty(len(order), dtype=np.int64)
    output_row[order] = np.arange(len(order))

    n_months = blocks[0].values.shape[1]
    values = np.empty((len(order), n_months), dtype=np.float32)
    positions, offset = [], 0
    for block, rows in zip(blocks, kept, strict=True):
        destination = output_row[offset : offset + len(rows)]
        for start in range(0, len(rows), BLOCK_ROWS):
            chunk = slice(start, start + BLOCK_ROWS)
            values[destination[chunk]] = np.clip(
                np.round(block.values[rows[chunk]]), 1.0, MAX_VALUE
            )
        position = np.full(len(block.values), -1, dtype=np.int64)
        position[rows] = destination
        positions.append(position)
        offset += len(rows)

    table = pd.DataFrame(
        {
            "reporter": COUNTRIES[reporter[order]].astype(object),
            "partner": COUNTRIES[partner[order]].astype(object),
            "flow": _FLOW_NAMES[flow[order]].astype(object),
            "hs": hs_codes[hs[order]].astype(object),
        }
    )
    return table, values, positions


def _labels(
    plantings: list[Planting],
    table: pd.DataFrame,
    export_position: np.ndarray,
    mirror_position: np.ndarray,
) -> pd.DataFrame:
    """One row per planted series present in the panel; the first planting wins."""
    columns: dict[str, list[np.ndarray]] = {
        name: [] for name in ("row", "scheme", "role", "onset", "evasion", "instance")
    }
    for planting in plantings:
        sides = [(export_position, planting.role)]
        if planting.mirror_role is not None:
            sides.append((mirror_position, planting.mirror_role))
        for position, role in sides:
            rows = position[planting.rows]
            found = rows >= 0
            n = int(found.sum())
            columns["row"].append(rows[found])
            columns["scheme"].append(np.full(n, planting.scheme, dtype=object))
            columns["role"].append(np.full(n, role, dtype=object))
            columns["onset"].append(planting.onset[found].astype(np.int64))
            columns["evasion"].append(np.full(n, planting.evasion))
            columns["instance"].append(planting.instance[found].astype(np.int64))
    empty = {"scheme": object, "role": object, "evasion": bool}
    labels = pd.DataFrame(
        {
            name: np.concatenate(parts) if parts else np.empty(0, empty.get(name, np.int64))
            for name, parts in columns.items()
        }
    ).drop_duplicates("row")
    labels["onset"] = pd.PeriodIndex.from_ordinals(labels["onset"].to_numpy(), freq="M")
    keys = table.iloc[labels["row"].to_numpy()].reset_index(drop=True)
    labels = pd.concat([keys, labels.drop(columns="row").reset_index(drop=True)], axis=1)
    labels = labels.sort_values(
        ["evasion", "scheme", "instance", "role"], ascending=[False, True, True, True]
    )
    return labels[list(LABEL_COLUMNS)].reset_index(drop=True)
