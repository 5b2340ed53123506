"""The settings every detector shares, in one place: :class:`DetectionConfig`.

Which destinations are sanctioned, which countries are transit hubs, how wide the
band shown in leads is, when a detector "fires", how many placebo values a
calibration needs: each is decided here once, passed down from the model to its
detectors and recorded in the model's artifact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scipy.special import ndtri


def band_quantile(coverage: float) -> float:
    """Normal quantile of a central band's upper edge, to four decimals as tabulated.

    Examples
    --------
    >>> band_quantile(0.9)
    1.6449
    """
    return round(float(ndtri(0.5 + coverage / 2)), 4)


def _transit_group() -> tuple[str, ...]:
    from anomaly.reference import country_group

    return tuple(sorted(country_group("transit")))


@dataclass(frozen=True)
class DetectionConfig:
    """Settings shared by the detectors and the ensemble.

    Parameters
    ----------
    sanctioned : tuple of str
        Destinations whose direct trade collapses under sanctions (ISO alpha-3).
    transit : tuple of str
        Transit countries (hubs) through which sanctioned goods are re-routed;
        default: the reference group ``transit`` (see :mod:`anomaly.reference`).
    band_coverage : float
        Coverage of the prediction band shown in leads (``lower``, ``upper``) and used
        to count months above it.
    signal_z : float
        A detector "fires" at a calibrated z at or above this (2.326: one-sided
        p ≤ 0.01).
    min_placebo_values : int
        Fewest placebo values a robust calibration (median, scaled MAD) is fitted on;
        with fewer, the statistic is read uncalibrated.
    min_scope_series : int
        In-scope placebo series needed to set the alert threshold among them alone
        (with fewer, among all placebo series).
    min_control_series : int
        Uncontrolled series a destination needs for its general-demand growth to be
        used as a control.
    demand_bound : float
        Largest general-demand factor a destination's counterfactual is scaled by.
    demand_floor : float
        Smallest: 1 by default, so the control only explains booms away. A destination
        whose other trade fell (a recession, a currency crisis, a war) does not make
        its steady flows read as surges.
    demand_prior_sd : float
        Prior spread of a destination's log demand factor: the factor is shrunk toward 1
        by its own uncertainty against this (empirical Bayes).
    demand_route_sd : float
        Smallest spread assumed between the routes (exporters) that measure one
        destination's demand: one route alone is not taken as exact.
    evidence_z : float
        Where one detector's evidence starts to saturate: a p-value beyond the normal
        tail at this z is compressed (logarithmically, keeping the order), so no single
        reading — one month against a model's tail — reaches p = 1e-244 and decides the
        ranking alone.
    sanctions_onset : str
        First month under the sanctions (``YYYY-MM``; the EU's of 25 February 2022 took
        effect in March). A series whose history is not in the data is read against
        its months before it (:mod:`anomaly.detect.baseline`), and how often a flow
        trades is counted from it when the scoring window begins before it
        (:mod:`anomaly.detect.regularity`).

    Examples
    --------
    >>> config = DetectionConfig()
    >>> config.sanctioned, round(config.band_z, 4)
    (('RUS', 'BLR'), 1.6449)
    >>> DetectionConfig.from_dict(config.to_dict()) == config
    True
    """

    sanctioned: tuple[str, ...] = ("RUS", "BLR")
    transit: tuple[str, ...] = field(default_factory=_transit_group)
    band_coverage: float = 0.9
    signal_z: float = 2.326
    min_placebo_values: int = 20
    min_scope_series: int = 100
    min_control_series: int = 5
    demand_bound: float = 3.0
    demand_floor: float = 1.0
    demand_prior_sd: float = 1.0
    demand_route_sd: float = 0.2
    evidence_z: float = 8.0
    sanctions_onset: str = "2022-03"

    @property
    def band_z(self) -> float:
        """:func:`band_quantile` of :attr:`band_coverage` (1.6449 for a 90% band)."""
        return band_quantile(self.band_coverage)

    @property
    def transit_set(self) -> frozenset[str]:
        """:attr:`transit` as a set."""
        return frozenset(self.transit)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values (tuples as lists), for an artifact's manifest."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DetectionConfig:
        """The inverse of :meth:`to_dict` (lists back to tuples)."""
        return cls(
            **{
                name: tuple(value) if isinstance(value, list) else value
                for name, value in values.items()
            }
        )
