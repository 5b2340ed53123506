"""Baseline detector: a series whose history is not in the data, read against its first months.

A code new in HS2022 whose HS2017 predecessors the input lacks has no history before
2022 (:attr:`~anomaly.model.evidence.FittedModel.unknown_history`): the residual and
mirror detectors do not read it, since its counterfactual would be a guess. Its own
first months under HS2022 — January and February 2022, before the sanctions took
effect (:attr:`~anomaly.detect.config.DetectionConfig.sanctions_onset`) — are the only
pre-war months the data hold. This detector reads the months from the onset on against
them, in one of two ways:

- a series that traded in its baseline months: the log ratio of the two monthly means
  (:func:`log_ratio`);
- a series absent from them: the share of the months from the onset in which it
  traded. An intermittent flow often skips two months; a flow that then trades
  every month for years has appeared.

Two months are a thin baseline, and the statistic is calibrated as such: on the
training window's own last years, for every series that traded in them, the same
calendar months (January–February against the months from March) give its placebo
distribution, one per way and window length, read empirically (:class:`PlaceboTails`).
Seasonality, drift and the noise of a two-month mean are in the calibration, not
assumed away, and no reading is stronger than its placebo draws allow.

Only series whose history is unknown are read (elsewhere the statistic is ``NaN``): the
others have a counterfactual from their own history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy.special import ndtri

from anomaly.detect.base import BaseDetector, DetectorState, PlaceboEvidence, ScoringWindow
from anomaly.detect.calibration import upper_tail_log_p
from anomaly.detect.config import DetectionConfig
from anomaly.panel import Panel

#: Months before the onset that form the baseline: January and February 2022, the
#: first months of HS2022 before the sanctions of 25 February 2022 took effect.
BASELINE_MONTHS = 2
#: Months from the onset that placebo draws compare with their baseline: to the end of
#: the onset's year, of the next, of the one after (with the default onset). A window
#: is read against the longest of these it covers: a level drifts further in longer
#: windows, and the calibration must know it.
PLACEBO_AFTER_MONTHS = (10, 22, 34)
#: Training years (the latest that fit) whose calendar months give placebo draws.
PLACEBO_YEARS = 3
#: The pseudo-count of the log ratio, as a share of the larger of the two means.
PSEUDO_SHARE = 0.01
#: Points of each placebo distribution kept (its quantiles) in the model.
TAIL_POINTS = 1000
#: The two ways a series is read: it traded in its baseline months (log ratio), or
#: it did not (share of the months after in which it traded).
ROSE, APPEARED = 0, 1


def log_ratio(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``log(after + c) - log(before + c)`` of monthly means, ``c`` a hundredth of the
    larger: finite where either traded (``0`` where neither did).

    Examples
    --------
    >>> log_ratio(np.array([100.0, 100.0, 0.0]), np.array([300.0, 0.0, 0.0])).round(3)
    array([ 1.079, -4.615,  0.   ])
    """
    c = PSEUDO_SHARE * np.maximum(before, after)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(after + c) - np.log(before + c)
    return np.where(c > 0, ratio, 0.0)


def baseline_statistic(
    before: np.ndarray, after: np.ndarray, traded_share: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each series' statistic and which way it is read (:data:`ROSE` or
    :data:`APPEARED`), from its baseline's and later months' monthly means and the
    share of later months in which it traded."""
    kind = np.where(before > 0, ROSE, APPEARED)
    return np.where(kind == ROSE, log_ratio(before, after), traded_share), kind


@dataclass(frozen=True)
class PlaceboDraws:
    """The baseline statistic's placebo draws, and which way each is read, per length
    (months after the onset; only the lengths the training window can draw).

    Examples
    --------
    >>> one = PlaceboDraws({10: (np.array([0.5]), np.array([ROSE]))})
    >>> PlaceboDraws.concat([one, one]).draws[10][0].tolist()
    [0.5, 0.5]
    """

    draws: dict[int, tuple[np.ndarray, np.ndarray]]

    @classmethod
    def concat(cls, parts: list[PlaceboDraws]) -> PlaceboDraws:
        """The draws of several sets of series (partitions of one training panel)."""
        lengths = parts[0].draws.keys()
        return cls(
            {
                length: tuple(
                    np.concatenate([part.draws[length][i] for part in parts]) for i in (0, 1)
                )
                for length in lengths
            }
        )


def placebo_draws(train: Panel, onset: pd.Period) -> PlaceboDraws:
    """The statistic drawn on the training window's last :data:`PLACEBO_YEARS` years,
    in the calendar months of the scoring window, for every series of ``train`` that
    traded in them (see :meth:`PlaceboTails.from_training`); each series' draws are
    its own, so a partition of the series draws its share."""
    months = np.asarray(train.periods.month)
    first = ((onset.month - BASELINE_MONTHS - 1) % 12) + 1
    starts = np.flatnonzero(months == first)[::-1]
    draws = {}
    for after_months in PLACEBO_AFTER_MONTHS:
        span = BASELINE_MONTHS + after_months
        fitting = [start for start in starts if start + span <= len(months)][:PLACEBO_YEARS]
        statistics, kinds = [], []
        for start in fitting:
            # Only the draw's months are copied: training matrices can be large.
            months_drawn = np.nan_to_num(train.values[:, start : start + span], nan=0.0)
            before = months_drawn[:, :BASELINE_MONTHS].mean(axis=1)
            later = months_drawn[:, BASELINE_MONTHS:]
            after = later.mean(axis=1)
            traded = (before > 0) | (after > 0)
            share = (later[traded] > 0).mean(axis=1)
            statistic, kind = baseline_statistic(before[traded], after[traded], share)
            statistics.append(statistic)
            kinds.append(kind)
        if statistics:
            draws[after_months] = (np.concatenate(statistics), np.concatenate(kinds))
    return PlaceboDraws(draws)


@dataclass(frozen=True)
class PlaceboTails:
    """The statistic's placebo distributions (per window length and way of reading),
    as upper-tail probabilities: empirical, since a thin baseline gives atoms that no
    normal tail describes.

    Attributes
    ----------
    lengths : numpy.ndarray
        ``(k,)`` months after the onset each pair of distributions was drawn for,
        ascending.
    quantiles : numpy.ndarray
        ``(k, 2, TAIL_POINTS)`` evenly spaced quantiles of each distribution (second
        axis: :data:`ROSE`, :data:`APPEARED`).
    draws : numpy.ndarray
        ``(k, 2)`` placebo draws behind each: the smallest tail probability it gives is
        ``1 / (draws + 1)``; a distribution of fewer than ``min_draws`` is not read.
    """

    lengths: np.ndarray
    quantiles: np.ndarray
    draws: np.ndarray

    @classmethod
    def from_training(cls, train: Panel, onset: pd.Period, min_draws: int) -> PlaceboTails:
        """Draw the statistic on the training window's last :data:`PLACEBO_YEARS` years,
        in the calendar months of the scoring window (January–February against the
        months from March with the default onset), for every series that traded in
        them."""
        return cls.from_draws(placebo_draws(train, onset), min_draws)

    @classmethod
    def from_draws(cls, found: PlaceboDraws, min_draws: int) -> PlaceboTails:
        """The distributions of placebo draws (of one training panel, or of its
        partitions put together with :meth:`PlaceboDraws.concat`: their order does
        not matter)."""
        levels = np.linspace(0.0, 1.0, TAIL_POINTS)
        lengths, quantiles, draws = [], [], []
        for after_months, (statistic, kind) in found.draws.items():
            counts = [int((kind == way).sum()) for way in (ROSE, APPEARED)]
            if max(counts) < min_draws:
                continue
            lengths.append(after_months)
            quantiles.append(
                [
                    np.quantile(statistic[kind == way], levels)
                    if count
                    else np.full(TAIL_POINTS, np.nan)
                    for way, count in zip((ROSE, APPEARED), counts, strict=True)
                ]
            )
            draws.append([count if count >= min_draws else 0 for count in counts])
        return cls(
            np.array(lengths, dtype=np.float64),
            np.array(quantiles, dtype=np.float64).reshape(len(lengths), 2, TAIL_POINTS),
            np.array(draws, dtype=np.float64).reshape(len(lengths), 2),
        )

    def log_pvalue(
        self, statistic: np.ndarray, kind: np.ndarray, after_months: np.ndarray
    ) -> np.ndarray:
        """Natural log of each statistic's upper-tail probability under the placebo
        distribution of its way of reading and of the longest length within
        ``after_months`` (the shortest if none is); ``NaN`` where there is none or
        ``statistic`` is ``NaN``."""
        out = np.full(len(statistic), np.nan)
        if not len(self.lengths):
            return out
        table = np.maximum(np.searchsorted(self.lengths, after_months, side="right") - 1, 0)
        for k in range(len(self.lengths)):
            for way in (ROSE, APPEARED):
                draws = self.draws[k, way]
                rows = (table == k) & (kind == way) & np.isfinite(statistic)
                if not draws or not rows.any():
                    continue
                below = np.searchsorted(self.quantiles[k, way], statistic[rows], side="left")
                # At most 1 - half a point: below every draw still reads as a finite z.
                share = np.minimum(1.0 - below / TAIL_POINTS, 1.0 - 0.5 / TAIL_POINTS)
                out[rows] = np.log(np.maximum(share, 1.0 / (draws + 1.0)))
        return out


class BaselineDetector(BaseDetector):
    """A series without history in the data, read against its months before the onset.

    Attributes
    ----------
    tails_ : PlaceboTails
        The statistic's distributions on the training window's placebo years.
    """

    name: ClassVar[str] = "baseline"
    pvalue_column: ClassVar[str | None] = "p_baseline"
    signal_names: ClassVar[tuple[str, ...]] = ("baseline_surge",)
    provides: ClassVar[tuple[str, ...]] = ("baseline_ratio", "baseline_z")

    def fit(self, train: Panel, placebo: PlaceboEvidence | None) -> Self:
        """Draw the placebo distributions from the training window's own years
        (``placebo`` is not read: the placebo window's series all have a history)."""
        onset = pd.Period(self.config.sanctions_onset, freq="M")
        return self.fit_tails(
            PlaceboTails.from_training(train, onset, self.config.min_placebo_values)
        )

    def fit_tails(self, tails: PlaceboTails) -> Self:
        """:meth:`fit` with the placebo distributions drawn already (over the
        partitions of a training panel, say)."""
        self.tails_ = tails
        return self

    def summarise(self, window: ScoringWindow) -> dict[str, np.ndarray]:
        """Per series: the monthly mean over its published baseline months in the
        window (``baseline_value``, ``NaN`` without any), how many there were, and in
        how many published months from the onset it traded."""
        scored = window.window
        onset = pd.Period(self.config.sanctions_onset, freq="M")
        ordinals = np.asarray(scored.periods.asi8)
        # Only the months from the baseline on are read (and copied).
        used = ordinals >= onset.ordinal - BASELINE_MONTHS
        base = ordinals[used] < onset.ordinal
        published = window.published[:, used]
        values = np.where(published, np.nan_to_num(scored.values[:, used], nan=0.0), 0.0)
        months = published[:, base].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(months > 0, values[:, base].sum(axis=1) / months, np.nan)
        traded_after = (values[:, ~base] > 0).sum(axis=1)
        return {
            "baseline_value": mean,
            "baseline_months": months.astype(np.float64),
            "traded_after_onset": traded_after.astype(np.float64),
        }

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """``baseline_ratio`` (monthly mean from the onset over the baseline's; ``NaN``
        if the baseline months had no trade) and
        ``baseline_z`` (the normal quantile of its placebo tail probability), for
        series whose history is not in the data."""
        before = table["baseline_value"].to_numpy(dtype=np.float64)
        base_months = table["baseline_months"].to_numpy(dtype=np.float64)
        after_months = table["n_months"].to_numpy(dtype=np.float64) - base_months
        after_total = table["actual"].to_numpy(dtype=np.float64) - before * base_months
        traded = table["traded_after_onset"].to_numpy(dtype=np.float64)
        unknown = ~table["history_known"].to_numpy(dtype=bool)
        applies = unknown & (base_months > 0) & (after_months > 0) & np.isfinite(before)
        with np.errstate(invalid="ignore", divide="ignore"):
            after = np.maximum(after_total, 0.0) / after_months
            ratio = np.where(applies & (before > 0), after / before, np.nan)
            statistic, kind = baseline_statistic(before, after, traded / after_months)
        log_p = self.tails_.log_pvalue(np.where(applies, statistic, np.nan), kind, after_months)
        return {"baseline_ratio": ratio, "baseline_z": -ndtri(np.exp(log_p))}

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray:
        """The placebo tail probability (as ``baseline_z`` carries it)."""
        return upper_tail_log_p(table["baseline_z"].to_numpy())

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """``baseline_surge``: far above its own months before the onset."""
        with np.errstate(invalid="ignore"):
            return {"baseline_surge": table["baseline_z"].to_numpy() >= self.config.signal_z}

    def to_state(self) -> DetectorState:
        tails = self.tails_
        return DetectorState(
            arrays={"lengths": tails.lengths, "quantiles": tails.quantiles, "draws": tails.draws}
        )

    @classmethod
    def from_state(cls, state: DetectorState, config: DetectionConfig) -> Self:
        detector = cls(config)
        arrays = state.arrays
        detector.tails_ = PlaceboTails(arrays["lengths"], arrays["quantiles"], arrays["draws"])
        return detector


def rise_z(table: pd.DataFrame) -> np.ndarray:
    """Each series' calibrated rise: the residual detector's ``z`` or, for a series whose
    history is not in the data (``z`` is ``NaN`` there), its ``baseline_z`` (against its
    own months before the sanctions) where the table has it.

    Examples
    --------
    >>> table = pd.DataFrame({"z": [2.5, np.nan, np.nan], "baseline_z": [np.nan, 4.0, np.nan]})
    >>> rise_z(table).tolist()
    [2.5, 4.0, nan]
    """
    z = table["z"].to_numpy(dtype=np.float64)
    if "baseline_z" not in table:
        return z
    return np.where(np.isfinite(z), z, table["baseline_z"].to_numpy(dtype=np.float64))
