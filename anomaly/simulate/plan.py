"""Where the schemes are planted: which series, from when, how strongly.

Onsets fall uniformly in ``config.onset_window`` (default 2022-03..2022-09), the months
after the first sanctions packages. Evasion passes through the hubs
(:data:`~anomaly.simulate.world.HUBS`) other than the demand-boom destinations, and
concerns CHP goods. Series are taken from the drawn world when it has suitable ones;
when it has too few (small worlds), the missing series are created with ordinary
histories of at least 10^4 EUR a month. Each series serves one scheme at most, except
a hub's re-export to Russia, which may collect from several.

Evasion (labelled ``evasion=True``):

- **transshipment**: a coalition exporter's CHP exports to a hub (10^3.5..10^6.5 a
  month before) surge 3–30× (``transshipment_factor``; log-uniform, over 1–3 months)
  and become regular; the hub's mirror import rises with them; 50–95% of the excess
  leaves the hub for Russia the same month or the next, declared by the hub (a new
  series, or a rise of an existing one). Kyrgyzstan's imports of EU integrated
  circuits rose 27× in 2022.
- **phantom_export**: a coalition exporter declares 3–30× (``phantom_export_factor``)
  more CHP exports to a hub, but the hub's mirror import stays on its path: declared
  shipped, not received (the goods went to Russia; the hub was their destination on
  paper only).
- **diffuse_hub**: three to five coalition suppliers of the same CHP good to one hub
  each rise only 1.5–3× (``diffuse_hub_factor``), within a month of each other, and
  the hub re-exports half or more of the total excess to Russia: no single series
  stands out.
- **from_nothing**: a CHP flow with no history appears at 10^5..10^6.5 a month, either
  into a hub from a coalition or neutral exporter, or from a hub to Russia.

Decoys (labelled ``evasion=False``):

- **demand_boom**: all imports of a small hub, CHP and other goods alike and from every
  origin, rise 2–3× (``demand_boom_factor``) over 3–6 months: real growth, which a
  detector must tell apart from evasion by comparing with the hub's other goods.
- **one_off_contract**: one month 5–30× (``one_off_contract_factor``) a series' level
  (a plant, an aircraft), in CHP goods, preferably into hubs, anywhere in the year
  after the onset window.
- **compliance_collapse**: direct CHP exports to Russia or Belarus fall to 0.3–2% of
  their path in March or April 2022 and are declared in one month in ten: sanctions
  working, a large deviation that is not evasion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.simulate.config import SimulationConfig
from anomaly.simulate.keys import SeriesKeys, encode
from anomaly.simulate.paths import SeriesParameters
from anomaly.simulate.registry import SeriesRegistry
from anomaly.simulate.schemes import ACTIVE_PRESENCE, Appear, Feed, Planting, Rescale, Spike
from anomaly.simulate.streams import stream
from anomaly.simulate.timeline import WAR_START, Timeline
from anomaly.simulate.world import (
    COALITION,
    COUNTRIES,
    DEMAND_BOOM_CANDIDATES,
    HUBS,
    NEUTRAL,
    SANCTIONED,
    HsCatalogue,
    country_mask,
)

__all__ = ["Plan", "plan_schemes"]

_RUS = int(np.flatnonzero(COUNTRIES == "RUS")[0])
_BOOM_MINIMUM = 4  # CHP and other series into a demand-boom destination, at least


@dataclass(frozen=True, eq=False)
class Plan:
    """The planted schemes of a world.

    Attributes
    ----------
    keys : SeriesKeys
        Every exporter-declared series: the drawn ones (with mirrors forced where a
        scheme needs the hub's import declaration), then those created for schemes.
    plantings : tuple of Planting
        Effects in the order they must be applied.
    """

    keys: SeriesKeys
    plantings: tuple[Planting, ...]


@dataclass
class _Context:
    """What every scheme planner needs to know about the world."""

    registry: SeriesRegistry
    chp_codes: np.ndarray
    other_codes: np.ndarray
    hubs: np.ndarray  # country indices of hubs open to evasion
    coalition: np.ndarray  # country indices
    window: tuple[int, int]  # onset window as month ordinals
    last: int  # last simulated month ordinal
    config: SimulationConfig
    next_instance: int = 0

    def instances(self, n: int) -> np.ndarray:
        ids = np.arange(self.next_instance, self.next_instance + n)
        self.next_instance += n
        return ids

    def onsets(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(self.window[0], self.window[1] + 1, n)

    def masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drawn rows: coalition exporter, hub importer, CHP code."""
        keys = self.registry.keys
        n_countries = len(COUNTRIES)
        coalition = np.zeros(n_countries, bool)
        coalition[self.coalition] = True
        hubs = np.zeros(n_countries, bool)
        hubs[self.hubs] = True
        chp = np.isin(keys.hs, self.chp_codes)
        return coalition[keys.exporter], hubs[keys.importer], chp


def plan_schemes(
    keys: SeriesKeys,
    params: SeriesParameters,
    catalogue: HsCatalogue,
    timeline: Timeline,
    config: SimulationConfig,
    seed: int,
) -> Plan:
    """Choose the series, onsets and strengths of every planted scheme.

    Evasion draws from the ``schemes`` stream and decoys from the ``decoys`` stream, so
    changing the decoys leaves the evasion schemes as they were.

    Parameters
    ----------
    keys : SeriesKeys
        The drawn exporter-declared series, sorted by code.
    params : SeriesParameters
        Their baseline parameters: schemes pick series by level and history.
    catalogue : HsCatalogue
        The world's HS codes.
    timeline : Timeline
        The simulated months; must contain the onset window.
    config : SimulationConfig
        Scheme counts and onset window.
    seed : int
        The world's seed.

    Returns
    -------
    Plan
    """
    n_series = int(keys.baseline.sum())
    window = tuple(pd.Period(p, freq="M").ordinal for p in config.onset_window)
    if window[0] < timeline.ordinals[0] or window[1] > timeline.ordinals[-1]:
        raise ValueError(
            f"the simulated months {timeline.periods[0]}..{timeline.periods[-1]} must "
            f"contain the onset window {config.onset_window[0]}..{config.onset_window[1]} "
            "to plant schemes; pass schemes=False, decoys=False for an earlier window"
        )
    decoy_rng, evasion_rng = stream(seed, "decoys"), stream(seed, "schemes")
    n_booms = config.demand_boom_destinations
    booms = tuple(sorted(decoy_rng.choice(DEMAND_BOOM_CANDIDATES, n_booms, replace=False)))
    ctx = _Context(
        registry=SeriesRegistry(keys, params, len(catalogue), window[0]),
        chp_codes=np.flatnonzero(catalogue.chp),
        other_codes=np.flatnonzero(~catalogue.chp),
        hubs=np.flatnonzero(country_mask(HUBS) & ~country_mask(booms)),
        coalition=np.flatnonzero(country_mask(COALITION)),
        window=window,
        last=int(timeline.ordinals[-1]),
        config=config,
    )
    count = {
        name: config.count(name, n_series)
        for name in (
            "transshipment",
            "phantom_export",
            "diffuse_hub",
            "from_nothing",
            "one_off_contract",
            "compliance_collapse",
        )
    }
    plantings = [
        *_transshipment(ctx, evasion_rng, count["transshipment"]),
        *_diffuse_hub(ctx, evasion_rng, count["diffuse_hub"]),
        *_phantom_export(ctx, evasion_rng, count["phantom_export"]),
        *_from_nothing(ctx, evasion_rng, count["from_nothing"]),
        *_one_off_contract(ctx, decoy_rng, count["one_off_contract"], booms),
        *_compliance_collapse(ctx, decoy_rng, count["compliance_collapse"]),
        *_demand_boom(ctx, decoy_rng, booms),
    ]
    return Plan(ctx.registry.all_keys(), tuple(p for p in plantings if len(p.rows)))


def _suppliers_to_hubs(
    ctx: _Context, rng: np.random.Generator, count: int, low: float, high: float
) -> np.ndarray:
    """Coalition CHP exports to evasion hubs with a level in [low, high], found or created."""
    coalition, hub, chp = ctx.masks()
    registry = ctx.registry
    level = (registry.level10 >= low) & (registry.level10 <= high)
    rows = registry.pick(rng, coalition & hub & chp & level, count)
    created = registry.create_ordinary(
        rng, ctx.coalition, ctx.hubs, ctx.chp_codes, count - len(rows)
    )
    rows = np.concatenate([rows, created])
    registry.take(rows, mirror=True)
    return rows


def _log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def _reexports(ctx: _Context, hubs: np.ndarray, hs: np.ndarray) -> np.ndarray:
    """Each hub's series of exports to Russia of ``hs``, created empty if missing."""
    registry = ctx.registry
    codes = encode(hubs, np.full(len(hubs), _RUS), hs, registry.n_hs)
    missing = np.unique(codes[registry.rows(codes) < 0])
    registry.create(missing, baseline=False, mirror=False)
    rows = registry.rows(codes)
    registry.take(rows)
    return rows


def _transshipment(ctx: _Context, rng: np.random.Generator, count: int) -> list[Planting]:
    if count == 0:
        return []
    src = _suppliers_to_hubs(ctx, rng, count, 3.5, 6.5)
    n = len(src)
    keys = ctx.registry.all_keys()
    onset, instance = ctx.onsets(rng, n), ctx.instances(n)
    surge = Rescale(
        scheme="transshipment",
        role="supplier_export",
        mirror_role="hub_import",
        rows=src,
        onset=onset,
        instance=instance,
        factor=_log_uniform(rng, *ctx.config.transshipment_factor, n),
        months=rng.integers(1, 4, n),
        presence=ACTIVE_PRESENCE,
    )
    lag = rng.integers(0, 2, n)
    feed = Feed(
        scheme="transshipment",
        role="hub_export",
        mirror_role=None,
        rows=_reexports(ctx, keys.importer[src], keys.hs[src]),
        onset=onset + lag,
        instance=instance,
        source=surge,
        source_index=np.arange(n),
        share=rng.uniform(0.5, 0.95, n),
        lag=lag,
    )
    return [surge, feed]


def _diffuse_hub(ctx: _Context, rng: np.random.Generator, count: int) -> list[Planting]:
    if count == 0:
        return []
    registry = ctx.registry
    coalition, hub, chp = ctx.masks()
    candidates = np.flatnonzero(
        coalition & hub & chp & registry.free & registry.established & (registry.level10 >= 4.0)
    )
    combo = (
        registry.keys.importer[candidates].astype(np.int64) * registry.n_hs
        + registry.keys.hs[candidates]
    )
    # Prefer (hub, product) combinations that already have several coalition suppliers.
    combos, sizes = np.unique(combo, return_counts=True)
    chosen = []
    if len(combos):
        size = min(count, len(combos))
        chosen = rng.choice(combos, size=size, replace=False, p=sizes / sizes.sum()).tolist()
    while len(chosen) < count:
        chosen.append(int(rng.choice(ctx.hubs)) * registry.n_hs + int(rng.choice(ctx.chp_codes)))
    suppliers, instance, onset = [], [], []
    for ids, code in zip(ctx.instances(count), chosen, strict=True):
        hub_index, hs = divmod(code, registry.n_hs)
        k = int(rng.integers(3, 6))
        existing = candidates[(combo == code) & registry.free[candidates]]
        rows = rng.choice(existing, size=min(k, len(existing)), replace=False)
        have = set(registry.keys.exporter[rows].tolist())
        others = np.array([c for c in ctx.coalition if c not in have])
        created = registry.create_ordinary(
            rng, others, np.array([hub_index]), np.array([hs]), k - len(rows)
        )
        rows = np.concatenate([rows, created]).astype(np.int64)
        registry.take(rows, mirror=True)
        start = ctx.onsets(rng, 1)[0]
        suppliers.append(rows)
        instance.append(np.full(len(rows), ids))
        onset.append(start + rng.integers(0, 2, len(rows)))
    src, instance, onset = (np.concatenate(a) for a in (suppliers, instance, onset))
    n = len(src)
    rise = Rescale(
        scheme="diffuse_hub",
        role="supplier_export",
        mirror_role="hub_import",
        rows=src,
        onset=onset,
        instance=instance,
        factor=rng.uniform(*ctx.config.diffuse_hub_factor, n),
        months=rng.integers(2, 5, n),
    )
    keys = registry.all_keys()
    lag = rng.integers(0, 2, n)
    feed = Feed(
        scheme="diffuse_hub",
        role="hub_export",
        mirror_role=None,
        rows=_reexports(ctx, keys.importer[src], keys.hs[src]),
        onset=onset + lag,
        instance=instance,
        source=rise,
        source_index=np.arange(n),
        share=np.repeat(rng.uniform(0.5, 0.95, count), [len(s) for s in suppliers]),
        lag=lag,
    )
    return [rise, feed]


def _phantom_export(ctx: _Context, rng: np.random.Generator, count: int) -> list[Planting]:
    if count == 0:
        return []
    rows = _suppliers_to_hubs(ctx, rng, count, 4.0, 7.0)
    n = len(rows)
    return [
        Rescale(
            scheme="phantom_export",
            role="declared_export",
            mirror_role=None,
            rows=rows,
            onset=ctx.onsets(rng, n),
            instance=ctx.instances(n),
            factor=_log_uniform(rng, *ctx.config.phantom_export_factor, n),
            months=rng.integers(1, 3, n),
            presence=ACTIVE_PRESENCE,
            declared_only=True,
        )
    ]


def _from_nothing(ctx: _Context, rng: np.random.Generator, count: int) -> list[Planting]:
    if count == 0:
        return []
    registry = ctx.registry
    exporters = np.flatnonzero(
        (country_mask(COALITION) | country_mask(NEUTRAL)) & ~country_mask(HUBS)
    )
    # Half the new flows leave a hub for Russia (as many as are still missing), the
    # rest enter a hub.
    to_russia = registry.absent(ctx.hubs, np.array([_RUS]), ctx.chp_codes)
    to_russia = rng.choice(to_russia, size=min(count // 2, len(to_russia)), replace=False)
    into_hubs = registry.absent(exporters, ctx.hubs, ctx.chp_codes)
    into_hubs = rng.choice(
        into_hubs, size=min(count - len(to_russia), len(into_hubs)), replace=False
    )
    rows = np.concatenate(
        [
            registry.create(into_hubs, baseline=False, mirror=True),
            registry.create(to_russia, baseline=False, mirror=False),
        ]
    )
    n = len(rows)
    return [
        Appear(
            scheme="from_nothing",
            role="new_export",
            mirror_role="new_import",
            rows=rows,
            onset=ctx.onsets(rng, n),
            instance=ctx.instances(n),
            level10=rng.uniform(5.0, 6.5, n),
            months=rng.integers(1, 4, n),
        )
    ]


def _one_off_contract(
    ctx: _Context, rng: np.random.Generator, count: int, booms: tuple[str, ...]
) -> list[Planting]:
    if count == 0:
        return []
    registry, keys = ctx.registry, ctx.registry.keys
    _, hub, chp = ctx.masks()
    sanctioned = country_mask(SANCTIONED)
    mask = (
        chp
        & ~sanctioned[keys.exporter]
        & ~sanctioned[keys.importer]
        & ~country_mask(booms)[keys.importer]
        & (registry.level10 >= 4.0)
    )
    # Hard decoys: most contracts go to hubs, where evasion is sought.
    rows = registry.pick(rng, mask, count, weights=np.where(hub, 5.0, 1.0))
    created = registry.create_ordinary(
        rng, ctx.coalition, ctx.hubs, ctx.chp_codes, count - len(rows)
    )
    rows = np.concatenate([rows, created])
    registry.take(rows)
    n = len(rows)
    latest = min(ctx.window[1] + 12, ctx.last)
    return [
        Spike(
            scheme="one_off_contract",
            role="contract_export",
            mirror_role="contract_import",
            rows=rows,
            onset=rng.integers(ctx.window[0], latest + 1, n),
            instance=ctx.instances(n),
            factor=_log_uniform(rng, *ctx.config.one_off_contract_factor, n),
        )
    ]


def _compliance_collapse(ctx: _Context, rng: np.random.Generator, count: int) -> list[Planting]:
    if count == 0:
        return []
    registry, keys = ctx.registry, ctx.registry.keys
    _, _, chp = ctx.masks()
    exporters = (country_mask(COALITION) | country_mask(NEUTRAL)) & ~country_mask(HUBS)
    sanctioned = country_mask(SANCTIONED)
    mask = exporters[keys.exporter] & sanctioned[keys.importer] & chp & (registry.level10 >= 3.5)
    rows = registry.pick(rng, mask, count)
    created = registry.create_ordinary(
        rng, ctx.coalition, np.flatnonzero(sanctioned), ctx.chp_codes, count - len(rows)
    )
    rows = np.concatenate([rows, created])
    registry.take(rows)
    n = len(rows)
    return [
        Rescale(
            scheme="compliance_collapse",
            role="collapsed_export",
            mirror_role=None,
            rows=rows,
            onset=WAR_START.ordinal + rng.integers(0, 2, n),
            instance=ctx.instances(n),
            factor=_log_uniform(rng, 0.003, 0.02, n),
            months=rng.integers(1, 3, n),
            presence=0.1,
        )
    ]


def _demand_boom(ctx: _Context, rng: np.random.Generator, booms: tuple[str, ...]) -> list[Planting]:
    registry, keys = ctx.registry, ctx.registry.keys
    chp = np.isin(keys.hs, ctx.chp_codes)
    plantings: list[Planting] = []
    for destination in booms:
        into = registry.free & (COUNTRIES[keys.importer] == destination)
        # The decoy needs CHP and other goods side by side: small worlds get a few.
        target = np.flatnonzero(COUNTRIES == destination)
        parts = [np.flatnonzero(into)]
        for pool, have in (
            (ctx.chp_codes, (into & chp).sum()),
            (ctx.other_codes, (into & ~chp).sum()),
        ):
            missing = max(0, _BOOM_MINIMUM - int(have))
            parts.append(registry.create_ordinary(rng, ctx.coalition, target, pool, missing))
        rows = np.concatenate(parts)
        registry.take(rows)
        n = len(rows)
        plantings.append(
            Rescale(
                scheme="demand_boom",
                role="supplier_export",
                mirror_role="destination_import",
                rows=rows,
                onset=np.full(n, ctx.onsets(rng, 1)[0]),
                instance=np.full(n, ctx.instances(1)[0]),
                factor=rng.uniform(*ctx.config.demand_boom_factor)
                * np.exp(rng.normal(0.0, 0.15, n)),
                months=np.full(n, rng.integers(3, 7)),
            )
        )
    return plantings
