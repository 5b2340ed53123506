"""The knobs of a simulated world, with defaults calibrated to published trade data.

Defaults follow what the real data in ``../shared/data`` show: mirror ratios of EU
exports to Central Asia sit near 0.9–1.1 before 2022 (a CIF/FOB margin of a few per
cent plus reporting noise), month-to-month log standard deviations from about 0.2 for
large flows to 0.8 and more for small ones, and a trough of about a third in April
2020.
Planted schemes are counted per 10,000 exporter-declared series so that a world of any
size holds the same share (about 1–2% of series are labelled at the defaults); every
scheme with a positive rate is planted at least once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

__all__ = ["DECOY_SCHEMES", "EVASION_SCHEMES", "SimulationConfig"]

#: Planted schemes that are sanctions evasion (labelled ``evasion=True``).
EVASION_SCHEMES: tuple[str, ...] = (
    "transshipment",
    "phantom_export",
    "diffuse_hub",
    "from_nothing",
)
#: Planted look-alikes that are not evasion (labelled ``evasion=False``).
DECOY_SCHEMES: tuple[str, ...] = ("demand_boom", "one_off_contract", "compliance_collapse")


@dataclass(frozen=True)
class SimulationConfig:
    """How a simulated world is built.

    Parameters
    ----------
    chp_share : float
        Share of exporter-declared series in Common High Priority codes.
    mirror_coverage : float
        Probability that the importer declares the mirror import of a series; small
        reporters (under 10 bn USD of trade) declare 20% fewer.
    cif_fob_margin, cif_fob_margin_sd : float
        Mean and spread over country pairs of the margin by which an import (valued
        CIF) exceeds the matching export (valued FOB).
    mirror_lag_share : float
        Share of country pairs whose imports are recorded one month after the export.
    mirror_noise_sd : float
        Log standard deviation of the importer's reporting noise; 2% of months carry a
        gross discrepancy seven times larger.
    noise_sd : tuple of float
        Log standard deviation of the month-to-month noise of the largest and of the
        smallest flows; flows in between interpolate on their magnitude.
    level_shift_share : float
        Share of series whose level jumps once at a random month (a firm enters or
        leaves), the ordinary break a detector must not call evasion.
    covid_trough : float
        Typical fall of trade in April 2020 against its path (0.35: down 35%).
    transshipment_per_10k, phantom_export_per_10k, diffuse_hub_per_10k, \
from_nothing_per_10k : float
        Planted evasion schemes per 10,000 exporter-declared series.
    demand_boom_destinations : int
        Number of hubs whose imports of all goods boom (decoy), at most 5.
    one_off_contract_per_10k, compliance_collapse_per_10k : float
        Planted decoys per 10,000 exporter-declared series.
    onset_window : tuple of str
        First and last month (``YYYY-MM``) in which planted schemes start.

    Examples
    --------
    >>> SimulationConfig().count("transshipment", 5_000)
    12
    >>> SimulationConfig(phantom_export_per_10k=0).count("phantom_export", 5_000)
    0
    """

    chp_share: float = 0.2
    mirror_coverage: float = 0.85
    cif_fob_margin: float = 0.06
    cif_fob_margin_sd: float = 0.03
    mirror_lag_share: float = 0.15
    mirror_noise_sd: float = 0.08
    noise_sd: tuple[float, float] = (0.2, 0.8)
    level_shift_share: float = 0.1
    covid_trough: float = 0.35
    transshipment_per_10k: float = 24.0
    phantom_export_per_10k: float = 12.0
    diffuse_hub_per_10k: float = 8.0
    from_nothing_per_10k: float = 20.0
    demand_boom_destinations: int = 1
    one_off_contract_per_10k: float = 16.0
    compliance_collapse_per_10k: float = 16.0
    onset_window: tuple[str, str] = ("2022-03", "2022-09")

    def __post_init__(self) -> None:
        for name in ("chp_share", "mirror_coverage", "mirror_lag_share", "level_shift_share"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        _check_range("covid_trough", self.covid_trough, 0.0, 0.95)
        _check_range("cif_fob_margin", self.cif_fob_margin, -0.5, 1.0)
        for f in fields(self):
            if f.name.endswith(("_per_10k", "margin_sd", "mirror_noise_sd")):
                _check_range(f.name, getattr(self, f.name), 0.0, float("inf"))
        low, high = self.noise_sd
        if not 0 < low <= high:
            raise ValueError(
                f"noise_sd must be (low, high) with 0 < low <= high, got {self.noise_sd}"
            )
        if not 0 <= self.demand_boom_destinations <= 5:
            raise ValueError(
                f"demand_boom_destinations must be between 0 and 5, got "
                f"{self.demand_boom_destinations}"
            )
        first, last = (pd.Period(p, freq="M") for p in self.onset_window)
        if first > last:
            raise ValueError(
                f"onset_window must be (first, last) in order, got {self.onset_window}"
            )

    def count(self, scheme: str, n_series: int) -> int:
        """Number of instances of ``scheme`` planted in a world of ``n_series`` series."""
        rate = getattr(self, f"{scheme}_per_10k")
        return 0 if rate == 0 else max(1, round(rate * n_series / 10_000))


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
