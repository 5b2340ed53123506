"""The knobs of a simulated world, with defaults calibrated to published trade data.

Defaults follow what the real data in ``../shared/data`` show: mirror ratios of EU
exports to Central Asia sit near 0.9–1.1 before 2022 (a CIF/FOB margin of a few per
cent plus reporting noise), month-to-month log standard deviations from about 0.2 for
large flows to 0.8 and more for small ones, and a trough of about a third in April
2020.
Planted schemes are counted per 10,000 exporter-declared series so that a world of any
size holds the same share (about 1–2% of series are labelled at the defaults); every
scheme with a positive rate is planted at least once.

Settings added for evaluation on varied worlds (noise family, intermittency, scheme
and decoy strengths) and the quirks of real files (:data:`QUIRKS`) default to the
values the simulator always used: a default ``SimulationConfig()`` builds exactly the
world it built before they existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import pandas as pd

__all__ = ["DECOY_SCHEMES", "EVASION_SCHEMES", "QUIRKS", "SimulationConfig"]

#: Planted schemes that are sanctions evasion (labelled ``evasion=True``).
EVASION_SCHEMES: tuple[str, ...] = (
    "transshipment",
    "phantom_export",
    "diffuse_hub",
    "from_nothing",
)
#: Planted look-alikes that are not evasion (labelled ``evasion=False``).
DECOY_SCHEMES: tuple[str, ...] = ("demand_boom", "one_off_contract", "compliance_collapse")
#: What real files do that the simulator can reproduce, each off by default (issue 11):
#:
#: - ``partial-stop``: Russia and Belarus publish about a third of their rows
#:   (``partial_stop_share``) of January 2022, their last month, instead of nothing;
#: - ``lag``: ``lag_reporters`` hubs have not yet published the last ``lag_months``
#:   months of the world (each its own number of months);
#: - ``revision-gap``: the rows of the HS2017 predecessors of revised codes are absent,
#:   so those HS2022 codes have no history before 2022;
#: - ``late-start``: the file starts at ``late_start`` (months before it are cut);
#: - ``all-sanctioned``: coalition exports of every good, not only CHP goods, to Russia
#:   and Belarus collapse from March 2022 (a universe where every good is sanctioned).
QUIRKS: tuple[str, ...] = ("partial-stop", "lag", "revision-gap", "late-start", "all-sanctioned")
# Settings given as a (low, high) pair of positive numbers.
_RANGES = (
    "transshipment_factor",
    "phantom_export_factor",
    "diffuse_hub_factor",
    "demand_boom_factor",
    "one_off_contract_factor",
)


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
    noise_df : float, optional
        ``None`` (default): the month-to-month noise is Gaussian. A number above 2:
        Student-t innovations with that many degrees of freedom, scaled to the same
        standard deviation (heavy tails: more single-month outliers).
    intermittency_shift : float
        Log10 EUR by which the curve of the probability of a month being declared
        moves to larger flows: 0 declares every month from 10^5.6 a month, 1 from
        10^6.6 (more intermittent series); negative values, fewer absent months.
    transshipment_factor, phantom_export_factor : tuple of float
        Range of the full surge of a transshipment supplier and of a phantom export
        (log-uniform), default 3–30×.
    diffuse_hub_factor : tuple of float
        Range of each diffuse-hub supplier's rise (uniform), default 1.5–3×.
    demand_boom_factor : tuple of float
        Range of the rise of a demand-boom destination's imports (uniform; each series
        varies about it by 15%), default 2–3×.
    one_off_contract_factor : tuple of float
        Range of a one-off contract's month over its series' level (log-uniform),
        default 5–30×.
    quirks : frozenset of str
        Quirks of real files to reproduce, from :data:`QUIRKS` (any iterable of names is
        accepted); none by default.
    partial_stop_share : float
        With ``partial-stop``: the share of their rows that Russia and Belarus publish
        in their last month.
    lag_reporters : int
        With ``lag``: how many hubs lag behind, at most 11.
    lag_months : tuple of int
        With ``lag``: fewest and most months (inclusive) a lagging hub has not yet
        published at the end of the world.
    late_start : str
        With ``late-start``: the first month (``YYYY-MM``) in the file.

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
    noise_df: float | None = None
    intermittency_shift: float = 0.0
    transshipment_factor: tuple[float, float] = (3.0, 30.0)
    phantom_export_factor: tuple[float, float] = (3.0, 30.0)
    diffuse_hub_factor: tuple[float, float] = (1.5, 3.0)
    demand_boom_factor: tuple[float, float] = (2.0, 3.0)
    one_off_contract_factor: tuple[float, float] = (5.0, 30.0)
    quirks: frozenset[str] = frozenset()
    partial_stop_share: float = 1 / 3
    lag_reporters: int = 3
    lag_months: tuple[int, int] = (1, 3)
    late_start: str = "2019-01"

    def __post_init__(self) -> None:
        # Accept lists (as read from JSON or TOML) where pairs and sets are meant.
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        object.__setattr__(self, "quirks", _quirk_set(self.quirks))
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
        if self.noise_df is not None and not self.noise_df > 2:
            raise ValueError(f"noise_df must be None or above 2, got {self.noise_df}")
        _check_range("intermittency_shift", self.intermittency_shift, -3.0, 3.0)
        for name in _RANGES:
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(
                    f"{name} must be (low, high) with 0 < low <= high, got {(low, high)}"
                )
        _check_range("partial_stop_share", self.partial_stop_share, 0.0, 1.0)
        if not 0 <= self.lag_reporters <= 11:
            raise ValueError(f"lag_reporters must be between 0 and 11, got {self.lag_reporters}")
        low, high = self.lag_months
        if not 1 <= low <= high:
            raise ValueError(
                f"lag_months must be (fewest, most) with 1 <= fewest <= most, got {self.lag_months}"
            )
        pd.Period(self.late_start, freq="M")  # a month, else ValueError

    def count(self, scheme: str, n_series: int) -> int:
        """Number of instances of ``scheme`` planted in a world of ``n_series`` series."""
        rate = getattr(self, f"{scheme}_per_10k")
        return 0 if rate == 0 else max(1, round(rate * n_series / 10_000))


def _quirk_set(quirks: Iterable[str] | str) -> frozenset[str]:
    """``quirks`` as a frozenset of known names (a comma-separated string is split)."""
    if isinstance(quirks, str):
        quirks = [q.strip() for q in quirks.split(",") if q.strip()]
    chosen = frozenset(quirks)
    unknown = sorted(chosen - set(QUIRKS))
    if unknown:
        raise ValueError(f"unknown quirks {unknown}; known: {', '.join(QUIRKS)}")
    return chosen


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
