"""Worlds with a known answer, and models fitted on them once per session.

``constructed_flows`` is built by hand: a calm background of coalition exports (and
the destinations' mirror imports) plus one series for each case the detectors must
get right. ``planted`` and ``placebo`` are small simulated worlds
(:func:`anomaly.simulate.simulate_world`), with and without planted schemes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly import Scores, TradeAnomalyModel
from anomaly.demo import SCORE_WINDOW, TRAIN_WINDOW, demo_flows
from anomaly.simulate import SimulatedWorld, simulate_world

SEED = 5
TRAIN = ("2015-01", "2021-12")
SCORE = ("2022-01", "2023-12")
#: The data run one month past the scoring window, so a shipping lag can be read.
PERIODS = pd.period_range("2015-01", "2024-01", freq="M")
WAR = pd.Period("2022-03", freq="M")

EXPORTERS = ("DEU", "FRA", "ITA", "POL", "NLD", "ESP", "SWE", "AUT", "USA", "JPN")
DESTINATIONS = ("KAZ", "KGZ", "ARM", "GEO", "UZB", "TUR", "BRA", "IND", "ZAF", "MEX", "EGY")
CHP_GOODS = ("854231", "854232", "854239", "847150", "848610", "852691", "853690", "901420")
OTHER_GOODS = ("220421", "300490", "870323", "940360", "640399", "610910", "392690", "481910")

#: Destination whose imports of every good, controlled or not, grow 2.5× from 2022-01.
BOOM = "UZB"
BOOM_FACTOR = 2.5
# Export series (reporter, partner, hs) of the planted cases.
PHANTOM = ("DEU", "KAZ", "854232")  # declared 4× from the war, the mirror import flat
LAGGED = ("FRA", "ARM", "847150")  # lumpy shipments, each declared received a month later
NEW_FLOW = ("ITA", "KGZ", "854239")  # no trade before the war, ~€1.2M a month after
#: A code new in HS2022 whose HS2017 predecessor (880330) is in no row of the data:
#: its history is unknown, not zero.
UNKNOWN_HISTORY = ("ITA", "KAZ", "880730")
COLLAPSE = ("FRA", "RUS", "848610")  # direct exports to Russia fall to 3%
STOPPED = ("ITA", "RUS", "854239")  # direct exports to Russia stop: no rows from 2022-03
DIRECT = ("DEU", "RUS", "854231")  # direct exports to Russia fall to 5% ...
REROUTED = ("DEU", "ARM", "854231")  # ... and go to Armenia instead ...
ONWARD = ("ARM", "RUS", "854231")  # ... which sends them on to Russia
FLAT_SUPPLIER = ("JPN", "ARM", "854231")  # ships the hub's good, up only 3%
PLANTED = (
    PHANTOM,
    LAGGED,
    NEW_FLOW,
    UNKNOWN_HISTORY,
    COLLAPSE,
    STOPPED,
    DIRECT,
    REROUTED,
    ONWARD,
    FLAT_SUPPLIER,
)


def month(period: str) -> int:
    return PERIODS.get_loc(pd.Period(period, freq="M"))


def calm(rng: np.random.Generator, level: float, sd: float = 0.2) -> np.ndarray:
    """A stable monthly path around ``exp(level)`` with a mild seasonal swing."""
    t = np.arange(len(PERIODS))
    season = 0.1 * np.sin(2 * np.pi * (t + rng.integers(12)) / 12)
    return np.exp(level + season + rng.normal(0.0, sd, len(PERIODS)))


def constructed_world(seed: int = SEED) -> pd.DataFrame:
    """The hand-built canonical flows table (EUR), 2015-01..2024-01.

    Every export series has its mirror import declared by the destination at a pair
    margin near the 6% CIF/FOB default, except that Russia stops publishing after
    2021 and the lagged pair declares receipts one month late.
    """
    rng = np.random.default_rng(seed)
    war, n = month(str(WAR)), len(PERIODS)
    series: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = {}
    for exporter in EXPORTERS:
        for destination in (*DESTINATIONS, "RUS"):
            for hs in CHP_GOODS + OTHER_GOODS:
                chance = 0.6 if destination == BOOM else 0.3
                if rng.random() > chance or (destination == "ARM" and hs == REROUTED[2]):
                    continue
                values = calm(rng, rng.normal(12.5, 1.0))
                if destination == BOOM:
                    values[month("2022-01") :] *= BOOM_FACTOR
                series[(exporter, destination, hs)] = (values, values)

    shipped = calm(rng, 13.5)
    declared = shipped.copy()
    declared[war:] *= 4.0
    series[PHANTOM] = (declared, shipped)

    lumpy = np.where(rng.random(n) < 0.4, np.exp(rng.normal(13.5, 0.3, n)), np.nan)
    lumpy[month("2021-12")] = np.nan  # so the window's first receipts are its own
    lumpy[month("2023-12")] = np.exp(14.0)  # received 2024-01, after the window
    lumpy[month("2024-01")] = np.nan
    series[LAGGED] = (lumpy, lumpy)

    new = np.full(n, np.nan)
    new[month("2022-04") :] = np.exp(rng.normal(14.0, 0.3, n - month("2022-04")))
    series[NEW_FLOW] = (new, new)
    series[UNKNOWN_HISTORY] = (new * 0.8, new * 0.8)

    collapse = calm(rng, 13.5)
    collapse[war:] *= 0.03
    collapse[war:][rng.random(n - war) < 0.5] = np.nan
    series[COLLAPSE] = (collapse, collapse)

    stopped = calm(rng, 13.0)
    stopped[war:] = np.nan
    series[STOPPED] = (stopped, stopped)

    direct, rerouted, onward = calm(rng, 13.5), calm(rng, 12.5), calm(rng, 11.0, sd=0.3)
    diverted = 0.9 * direct[war:]
    direct[war:] *= 0.05
    rerouted[war:] += diverted
    onward[war + 1 :] += 0.9 * diverted[:-1]
    series[DIRECT], series[REROUTED], series[ONWARD] = (
        (direct, direct),
        (rerouted, rerouted),
        (onward, onward),
    )
    flat = calm(rng, 13.0)
    flat[war:] *= 1.03
    series[FLAT_SUPPLIER] = (flat, flat)

    frames = []
    for (exporter, destination, hs), (declared, goods) in series.items():
        margin = np.log1p(0.06) + rng.normal(0.0, 0.02)
        received = goods * np.exp(margin + rng.normal(0.0, 0.05, n))
        if (exporter, destination, hs) == LAGGED:
            received = np.r_[np.nan, received[:-1]]
        if destination == "RUS":
            received[month("2022-01") :] = np.nan  # Russia stopped publishing
        frames.append(_long(exporter, destination, "export", hs, declared))
        frames.append(_long(destination, exporter, "import", hs, received))
    flows = pd.concat(frames, ignore_index=True)
    flows.attrs["currency"] = "EUR"
    return flows


def _long(reporter: str, partner: str, flow: str, hs: str, values: np.ndarray) -> pd.DataFrame:
    kept = np.isfinite(values)
    return pd.DataFrame(
        {
            "period": PERIODS[kept],
            "reporter": reporter,
            "partner": partner,
            "flow": flow,
            "hs": hs,
            "value": np.round(values[kept]),
        }
    )


def lead(leads: pd.DataFrame, series: tuple[str, str, str], flow: str = "export") -> pd.Series:
    """The lead of an export series (or, with ``flow="import"``, of its mirror import)."""
    reporter, partner, hs = series if flow == "export" else (series[1], series[0], series[2])
    found = leads[
        (leads["reporter"] == reporter)
        & (leads["partner"] == partner)
        & (leads["flow"] == flow)
        & (leads["hs"] == hs)
    ]
    assert len(found) == 1, f"expected one lead for {reporter} {partner} {flow} {hs}"
    return found.iloc[0]


def signals(row: pd.Series) -> set[str]:
    return set(row["signals"].split(";")) - {""}


@pytest.fixture(scope="session")
def constructed_flows() -> pd.DataFrame:
    return constructed_world()


@pytest.fixture(scope="session")
def constructed_model(constructed_flows) -> TradeAnomalyModel:
    return TradeAnomalyModel(n_estimators=100).fit(constructed_flows, *TRAIN)


@pytest.fixture(scope="session")
def constructed_scores(constructed_model, constructed_flows) -> Scores:
    return constructed_model.score(constructed_flows, *SCORE)


@pytest.fixture(scope="session")
def constructed_leads(constructed_scores) -> pd.DataFrame:
    return constructed_scores.leads


@pytest.fixture(scope="session")
def planted() -> SimulatedWorld:
    return simulate_world(2_000, seed=3)


@pytest.fixture(scope="session")
def planted_scores(planted) -> Scores:
    model = TradeAnomalyModel(n_estimators=100).fit(planted.flows, *TRAIN)
    return model.score(planted.flows, *SCORE)


@pytest.fixture(scope="session")
def placebo_leads() -> pd.DataFrame:
    """Leads of a world without schemes: trained 2015–2018, scored 2019–2021 (COVID)."""
    world = simulate_world(2_000, seed=3, schemes=False, decoys=False)
    model = TradeAnomalyModel(n_estimators=100).fit(world.flows, "2015-01", "2018-12")
    return model.score(world.flows, "2019-01", "2021-12").leads


@pytest.fixture(scope="session")
def demo() -> pd.DataFrame:
    return demo_flows()


@pytest.fixture(scope="session")
def demo_model(demo) -> TradeAnomalyModel:
    return TradeAnomalyModel(n_estimators=50).fit(demo, *TRAIN_WINDOW)


@pytest.fixture(scope="session")
def demo_scores(demo_model, demo) -> Scores:
    return demo_model.score(demo, *SCORE_WINDOW)
