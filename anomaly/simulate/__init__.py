"""Simulated trade worlds with planted, labelled sanctions-evasion schemes.

A seeded synthetic world of monthly bilateral trade (exporter declarations and the
importers' mirror declarations, 2015–2024, in EUR) in which evasion of the export
controls on Common High Priority goods is planted from spring 2022 (transshipment
through hubs, phantom exports, diffuse hubs, flows from nothing) beside decoys that
look like it (a demand boom, one-off contracts, sanctions that work). The labels say
which series carry what, so that detectors can be measured rather than trusted.

- :func:`simulate_world` returns the canonical long flows table and the labels;
- :func:`simulate_panel` returns the same world as a keys table and a dense matrix,
  for sizes up to 10^6 series;
- :func:`write_world` writes a world to Parquet and CSV files.

The modules, in the order of the simulation: :mod:`.world` (countries, codes),
:mod:`.keys` (which series exist), :mod:`.paths` (baseline paths), :mod:`.war`
(ordinary war effects), :mod:`.plan`, :mod:`.registry` and :mod:`.schemes` (planted
schemes), :mod:`.mirror` (importers' declarations), :mod:`.revision` (HS2017 codes
before 2022), :mod:`.quirks` (what real files leave out), :mod:`.panel` (assembly);
:mod:`.timeline` and :mod:`.streams` hold the calendar and the random streams.
"""

from anomaly.simulate.api import SimulatedWorld, simulate_world
from anomaly.simulate.config import DECOY_SCHEMES, EVASION_SCHEMES, QUIRKS, SimulationConfig
from anomaly.simulate.panel import SimulatedPanel, simulate_panel
from anomaly.simulate.quirks import Coverage
from anomaly.simulate.write import write_world

__all__ = [
    "DECOY_SCHEMES",
    "EVASION_SCHEMES",
    "QUIRKS",
    "Coverage",
    "SimulatedPanel",
    "SimulatedWorld",
    "SimulationConfig",
    "simulate_panel",
    "simulate_world",
    "write_world",
]
