"""Mirror detector: goods declared shipped that the destination does not declare received.

For each export declaration (A → B, HS code) its mirror is B's import declaration from
A. Before the war each pair has a normal mirror ratio (imports are valued CIF, exports
FOB, so about 6% more arrives than leaves, and each pair has its own reporting habits);
the detector learns it per pair, shrunk to the pooled ratio, then scores how far the
scoring window's ratio falls below it. A shipment declared in December may be declared
received in January, so the window's ratio is also read with the imports one month
later, and the reading nearer normal is kept.

A partner that stopped publishing (Russia after 2021) is missing data, never "zero
received": only months both reporters published count.

Everything about mirrors lives here: pairing (:func:`mirror_targets`), the normal
ratios (:class:`MirrorRatios`), the window's reading (:func:`mirror_summary`) and the
detector that calibrates it (:class:`MirrorDetector`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from anomaly.detect.base import BaseDetector, DetectorState, PlaceboEvidence, ScoringWindow
from anomaly.detect.calibration import BinnedZCalibration, upper_tail_log_p
from anomaly.detect.config import DetectionConfig
from anomaly.forecast.publication import published_directions
from anomaly.panel import Panel, positions
from anomaly.schema import MIRROR_FLOW, SERIES_KEY_COLUMNS

#: Default CIF/FOB margin: imports are declared at cost, insurance and freight, about
#: 6% above the free-on-board export value (the IMF's and OECD's usual rule of thumb).
CIF_FOB_MARGIN = 0.06
#: Pseudo-months of the pooled mirror ratio in each pair's own ratio.
RATIO_STRENGTH = 6.0


@dataclass(frozen=True)
class MirrorTargets:
    """Row positions of declared export series and their mirror rows (-1: none filed)."""

    declared: np.ndarray
    mirror: np.ndarray


def since_first_receipt(imports: np.ndarray) -> np.ndarray:
    """Mirror declarations from the first month the partner declared a receipt on;
    ``NaN`` (not compared) before it, and in every month if it never declared one.

    For a series whose history is not in the data (a code new in HS2022 whose
    predecessors the input lacks): countries adopt a revision at different times, so
    a partner that has not yet declared the new code may be declaring the goods under
    the old one. Its receipts under the new code show that it has adopted it; months
    before them would read as a gap that is only the revision.

    Examples
    --------
    >>> since_first_receipt(np.array([[0.0, np.nan, 5.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    array([[nan, nan,  5.,  0.],
           [nan, nan, nan, nan]])
    """
    received = np.nan_to_num(imports, nan=0.0) > 0
    first = np.where(received.any(axis=1), np.argmax(received, axis=1), imports.shape[1])
    before = np.arange(imports.shape[1])[None, :] < first[:, None]
    return np.where(before, np.nan, imports)


def mirror_targets(panel: Panel, publishing: set[str]) -> MirrorTargets:
    """Every export series whose partner publishes, with its mirror row if filed.

    An export to a publishing partner that filed no import of the good at all has
    mirror ``-1``: every month it published, it declared receiving nothing.
    """
    keys = panel.keys
    exports = np.flatnonzero(
        (keys["flow"] == "export").to_numpy() & keys["partner"].isin(publishing)
    )
    wanted = pd.DataFrame(
        {
            "reporter": keys["partner"].to_numpy()[exports],
            "partner": keys["reporter"].to_numpy()[exports],
            "flow": MIRROR_FLOW["export"],
            "hs": keys["hs"].to_numpy()[exports],
        }
    )
    lookup = panel.keys.reset_index(names="_row").set_index(list(SERIES_KEY_COLUMNS))["_row"]
    mirror = lookup.reindex(pd.MultiIndex.from_frame(wanted)).fillna(-1).to_numpy(np.int64)
    return MirrorTargets(exports, mirror)


def mirror_values(panel: Panel, targets: MirrorTargets, published: pd.DataFrame) -> np.ndarray:
    """Mirror declarations aligned with the declared rows; ``NaN`` where unpublished.

    ``published`` says which months each reporter published its imports (index:
    reporter); the mirror side's months are those its own reporter published imports in.
    """
    partners = panel.keys["partner"].to_numpy()[targets.declared]
    partner_published = published.reindex(partners, fill_value=False).to_numpy(dtype=bool)
    filed = targets.mirror >= 0
    values = np.zeros((len(targets.declared), panel.n_periods))
    values[filed] = np.nan_to_num(panel.values[targets.mirror[filed]], nan=0.0)
    return np.where(partner_published, values, np.nan)


@dataclass(frozen=True)
class MirrorSums:
    """What each declared export series' normal mirror ratio is learned from.

    Each series' sums are its own, so the sums of sets of series (partitions of a
    training panel) are put together by :meth:`concat`.

    Attributes
    ----------
    keys : pandas.DataFrame
        Declared export series keys (``reporter, partner, flow, hs``).
    sent, received : numpy.ndarray
        Declared exports and mirror imports, summed over the months both sides
        published.
    months : numpy.ndarray
        Months both sides published with trade declared on either.
    """

    keys: pd.DataFrame
    sent: np.ndarray
    received: np.ndarray
    months: np.ndarray

    @classmethod
    def of(cls, keys: pd.DataFrame, exports: np.ndarray, imports: np.ndarray) -> MirrorSums:
        """The sums of aligned training matrices (``NaN``: not published)."""
        both = np.isfinite(imports) & np.isfinite(exports)
        return cls(
            keys.reset_index(drop=True),
            np.where(both, exports, 0.0).sum(axis=1),
            np.where(both, imports, 0.0).sum(axis=1),
            (both & ((exports > 0) | (imports > 0))).sum(axis=1),
        )

    @classmethod
    def concat(cls, parts: list[MirrorSums], order: np.ndarray | None = None) -> MirrorSums:
        """The sums of several sets of series, one after the other, then (given
        ``order``, positions into them) in that order."""
        keys = pd.concat([part.keys for part in parts], ignore_index=True)
        arrays = [np.concatenate([getattr(p, name) for p in parts]) for name in _SUMS]
        if order is not None:
            keys = keys.take(order).reset_index(drop=True)
            arrays = [array[order] for array in arrays]
        return cls(keys, *arrays)


_SUMS = ("sent", "received", "months")


@dataclass(frozen=True)
class MirrorRatios:
    """Each pair's normal log mirror ratio ``log(imports / exports)`` before the war.

    A reading is only meaningful where the destination's statistics cover the trade:
    a pair declared on both sides before the war has its own (shrunk) ratio; a good
    not traded before the war, between two countries whose mirror statistics did
    match for other goods, gets the pooled ratio; anything else (declared shipped
    before the war and never declared received) has no mirror reading at all.

    Attributes
    ----------
    keys : pandas.DataFrame
        Declared export series keys (``reporter, partner, flow, hs``).
    log_ratio : numpy.ndarray
        Per pair, shrunk to ``pooled``; ``NaN`` where the pair was never mirrored.
    pooled : float
        The pooled log ratio (default ``log(1 + CIF_FOB_MARGIN)`` if too few pairs).
    """

    keys: pd.DataFrame
    log_ratio: np.ndarray
    pooled: float

    @classmethod
    def learn(cls, keys: pd.DataFrame, exports: np.ndarray, imports: np.ndarray) -> MirrorRatios:
        """Learn ratios from aligned training matrices (``NaN`` imports: unpublished)."""
        return cls.from_sums(MirrorSums.of(keys, exports, imports))

    @classmethod
    def from_sums(cls, sums: MirrorSums) -> MirrorRatios:
        """Learn ratios from each pair's sums (of one training panel, or of its
        partitions put together in its row order)."""
        sent, received, months = sums.sent, sums.received, sums.months
        usable = (sent > 0) & (received > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            own = np.log(received / sent)
        pooled = float(np.median(own[usable])) if usable.sum() >= 10 else np.log1p(CIF_FOB_MARGIN)
        weight = np.where(usable, months / (months + RATIO_STRENGTH), 0.0)
        log_ratio = weight * np.where(usable, own, 0.0) + (1 - weight) * pooled
        never_mirrored = (sent > 0) & (received == 0)
        log_ratio = np.where(never_mirrored, np.nan, log_ratio)
        return cls(sums.keys.reset_index(drop=True), log_ratio, pooled)

    def take(self, rows: np.ndarray) -> MirrorRatios:
        """The ratios of the series at ``rows`` (the same readings for every series of
        the country pairs they hold: a batch partition's share)."""
        return MirrorRatios(
            self.keys.iloc[rows].reset_index(drop=True), self.log_ratio[rows], self.pooled
        )

    def lookup(self, keys: pd.DataFrame) -> np.ndarray:
        """Normal log ratio of each declared series in ``keys`` (``NaN``: no reading)."""
        row = self._index.get_indexer(pd.MultiIndex.from_frame(keys[list(SERIES_KEY_COLUMNS)]))
        seen = row >= 0
        found = np.full(len(row), np.nan)
        found[seen] = self.log_ratio[row[seen]]
        pairs = pd.MultiIndex.from_frame(keys[["reporter", "partner"]])
        new_in_covered = ~seen & pairs.isin(self._covered_pairs)
        return np.where(seen, found, np.where(new_in_covered, self.pooled, np.nan))

    @cached_property
    def _index(self) -> pd.MultiIndex:
        """The learned series' keys (built once: batch workers look up every partition)."""
        return pd.MultiIndex.from_frame(self.keys[list(SERIES_KEY_COLUMNS)])

    @cached_property
    def _covered_pairs(self) -> pd.MultiIndex:
        """Country pairs with a learned ratio."""
        mirrored = self.keys.loc[np.isfinite(self.log_ratio), ["reporter", "partner"]]
        return pd.MultiIndex.from_frame(mirrored).unique()


def mirror_summary(exports: np.ndarray, imports: np.ndarray, log_ratio: np.ndarray) -> dict:
    """Per declared series: received against expected-received over the window.

    Parameters
    ----------
    exports, imports : numpy.ndarray
        Aligned ``(n_pairs, n_months)`` declarations; ``NaN`` imports mark months the
        partner did not publish. ``imports`` may hold one month more than
        ``exports`` at the end (the month after the window) to read a shipping lag.
    log_ratio : numpy.ndarray
        Each pair's normal log mirror ratio.

    Returns
    -------
    dict of str to numpy.ndarray
        ``months`` (months both sides published), ``sent``, ``received``,
        ``expected_received``, ``not_received`` (value
        declared shipped and not declared received, in the importer's valuation),
        ``mirror_gap`` (share of the expected receipts missing; ``NaN`` where the
        partner did not publish or nothing was sent) and ``log_departure`` (window log
        ratio minus the pair's normal one; negative = less received than normal).

    Examples
    --------
    >>> s = mirror_summary(np.array([[61.0]]), np.array([[6.6]]), np.array([0.0]))
    >>> round(float(s["mirror_gap"][0]), 2)
    0.89
    """
    n_months = exports.shape[1]
    departures, summaries = [], []
    lagged = imports.shape[1] > n_months
    # A month counts only where the partner also published the month after it: a
    # shipment of its last month may be declared received in a month it never
    # published (Russia after January 2022), a lag that would read as a 100% gap.
    next_published = np.ones_like(exports, dtype=bool)
    next_published[:, :-1] = np.isfinite(imports[:, 1:n_months])
    if lagged:
        next_published[:, -1] = np.isfinite(imports[:, n_months])
    for lag in (0, 1) if lagged else (0,):
        received_m = imports[:, lag : lag + n_months]
        both = np.isfinite(received_m) & next_published
        sent = np.where(both, exports, 0.0).sum(axis=1)
        received = np.where(both, received_m, 0.0).sum(axis=1)
        expected = sent * np.exp(log_ratio)
        with np.errstate(divide="ignore", invalid="ignore"):
            departure = np.log((received + 1e-9 * expected + 1.0) / (expected + 1.0))
        departure = np.where(both.any(axis=1) & (sent > 0), departure, np.nan)
        departures.append(departure)
        summaries.append((both.sum(axis=1), sent, received, expected))
    # Keep, per pair, the lag whose reading is nearer normal: a lag is not evasion.
    choice = np.argmin(np.abs(np.nan_to_num(np.array(departures), nan=np.inf)), axis=0)
    rows = np.arange(exports.shape[0])
    months, sent, received, expected = (
        np.array(parts)[choice, rows] for parts in zip(*summaries, strict=True)
    )
    departure = np.array(departures)[choice, rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(np.isfinite(departure), 1 - received / expected, np.nan)
    return {
        "months": np.where(np.isfinite(departure), months, 0),
        "sent": sent,
        "received": received,
        "expected_received": expected,
        "not_received": np.where(np.isfinite(departure), expected - received, np.nan),
        "mirror_gap": gap,
        "log_departure": departure,
    }


#: Summary columns of :meth:`MirrorDetector.summarise`, by :func:`mirror_summary` key.
MIRROR_COLUMNS = {
    "months": "mirror_months",
    "sent": "mirror_sent",
    "received": "mirror_received",
    "expected_received": "mirror_expected",
    "not_received": "not_received",
    "mirror_gap": "mirror_gap",
    "log_departure": "log_departure",
}


def mirror_statistic(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The mirror detector's raw statistic and the size it is calibrated by.

    The statistic is the gap share (1 = nothing received), bounded to [-1, 1]: unlike
    a log ratio it cannot explode when a small flow's receipts are zero, which a
    classification difference or a confidential month can cause; the size is the
    log of the expected receipts (small flows' gaps are noisier).
    """
    gap = table["mirror_gap"].clip(-1.0, 1.0).to_numpy()
    return gap, np.log1p(table["mirror_expected"].to_numpy())


def learn_ratios(train: Panel) -> MirrorRatios:
    """Normal mirror ratios of every export series of ``train`` whose partner publishes."""
    return MirrorRatios.from_sums(mirror_sums(train))


def mirror_sums(train: Panel, published: pd.DataFrame | None = None) -> MirrorSums:
    """The sums behind the normal mirror ratios of ``train``'s export series.

    Parameters
    ----------
    train : Panel
        A training panel, or a partition of one by unordered country pair (an export
        and its mirror import are in the same partition).
    published : pandas.DataFrame, optional
        Which months each reporter published each direction of its trade, over the whole
        training panel (index: reporter, direction;
        :func:`~anomaly.forecast.publication.published_directions`); default: read from
        ``train``. An export is compared in the months its reporter published exports
        and its partner imports.
    """
    if published is None:
        published = published_directions(train.publishers_declared())
    exported = published.xs("exports", level=1)
    imported = published.xs("imports", level=1)
    publishing = set(imported.index[imported.to_numpy().any(axis=1)])
    targets = mirror_targets(train, publishing)
    reporters = train.keys["reporter"].to_numpy()[targets.declared]
    own = exported.reindex(reporters, fill_value=False).to_numpy(dtype=bool)
    exports = np.where(own, np.nan_to_num(train.values[targets.declared]), np.nan)
    imports = mirror_values(train, targets, imported)
    return MirrorSums.of(train.keys.iloc[targets.declared], exports, imports)


class MirrorDetector(BaseDetector):
    """Declared exports the destination does not declare received ("phantom exports").

    The evidence grows with the months compared: the gap share's spread was
    calibrated on the placebo's comparisons (typically a year of months), and a
    comparison of ``n`` months has a spread larger by ``sqrt(reference / n)`` (months
    taken as independent; a longer comparison is not credited beyond the reference,
    for a gap persists from month to month). One month's gap cannot read as a year's.

    Attributes
    ----------
    ratios_ : MirrorRatios
        Each pair's normal mirror ratio over the training window.
    calibration_ : BinnedZCalibration
        The gap share's placebo distribution, by size of the expected receipts.
    reference_months_ : float
        Median months compared in the placebo window (``NaN``: no scaling, as in
        artifacts written before anomaly kept it).
    """

    name: ClassVar[str] = "mirror"
    pvalue_column: ClassVar[str | None] = "p_mirror"
    signal_names: ClassVar[tuple[str, ...]] = ("mirror_gap",)
    provides: ClassVar[tuple[str, ...]] = ("mirror_z",)

    def fit(self, train: Panel, placebo: PlaceboEvidence | None) -> Self:
        """Learn the pairs' normal ratios on ``train``; calibrate on the placebo."""
        return self.fit_ratios(learn_ratios(train), placebo)

    def fit_ratios(self, ratios: MirrorRatios, placebo: PlaceboEvidence | None) -> Self:
        """:meth:`fit` with the pairs' normal ratios learned already (over the
        partitions of a training panel, say)."""
        self.ratios_ = ratios
        if placebo is not None:
            table = placebo.table
            self.calibration_ = BinnedZCalibration.from_placebo(
                *mirror_statistic(table), min_values=self.config.min_placebo_values
            )
            months = table["mirror_months"].to_numpy(dtype=np.float64)
            compared = months[np.isfinite(months) & (months > 0)]
            self.reference_months_ = float(np.median(compared)) if compared.size else np.nan
        return self

    def summarise(self, window: ScoringWindow) -> dict[str, np.ndarray]:
        """Mirror evidence of each export series whose partner publishes (else ``NaN``)."""
        scored = window.window
        out = {name: np.full(scored.n_series, np.nan) for name in MIRROR_COLUMNS.values()}
        targets = mirror_targets(scored, set(window.publishers))
        if not len(targets.declared):
            return out
        # One month more on the import side, to read a shipping lag at the window's end.
        extended = window.panel.select(positions(window.panel.keys, scored.keys))
        partner = scored.keys["partner"].to_numpy()[targets.declared]
        filed = targets.mirror >= 0
        imports = np.zeros((len(targets.declared), extended.n_periods))
        imports[filed] = np.nan_to_num(extended.values[targets.mirror[filed]], nan=0.0)
        hs = scored.keys["hs"].to_numpy()[targets.declared]
        published = window.published_mask(partner, flows="import", hs=hs)
        imports = np.where(published, imports, np.nan)
        if window.history_known is not None:
            unknown = ~window.history_known[targets.declared]
            imports[unknown] = since_first_receipt(imports[unknown])
        exports = np.where(
            window.published[targets.declared], np.nan_to_num(scored.values[targets.declared]), 0.0
        )
        ratio = self.ratios_.lookup(scored.keys.iloc[targets.declared])
        summary = mirror_summary(exports, imports, ratio)
        for source, target in MIRROR_COLUMNS.items():
            out[target][targets.declared] = summary[source]
        return out

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Calibrated ``mirror_z``, weaker when fewer months were compared."""
        z = self.calibration_.z(*mirror_statistic(table))
        if np.isfinite(self.reference_months_):
            months = table["mirror_months"].to_numpy(dtype=np.float64)
            z = z * np.sqrt(np.minimum(months, self.reference_months_) / self.reference_months_)
        return {"mirror_z": z}

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray:
        """A gap counts on its own: declared exports that never arrive are the
        phantom-export signature even without a surge."""
        return upper_tail_log_p(table["mirror_z"].to_numpy())

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        return {"mirror_gap": table["mirror_z"].to_numpy() >= self.config.signal_z}

    def to_state(self) -> DetectorState:
        calibration, ratios = self.calibration_, self.ratios_
        arrays = {
            "log_ratio": ratios.log_ratio,
            "pooled": np.array(ratios.pooled),
            "calibration.edges": calibration.edges,
            "calibration.centres": calibration.centres,
            "calibration.spreads": calibration.spreads,
            "calibration.months": np.array(self.reference_months_),
        }
        pairs = ratios.keys[list(SERIES_KEY_COLUMNS)].astype("string").reset_index(drop=True)
        return DetectorState(arrays=arrays, tables={"pairs": pairs})

    @classmethod
    def from_state(cls, state: DetectorState, config: DetectionConfig) -> Self:
        detector = cls(config)
        arrays = state.arrays
        detector.ratios_ = MirrorRatios(
            state.tables["pairs"], arrays["log_ratio"], float(arrays["pooled"])
        )
        detector.calibration_ = BinnedZCalibration(
            arrays["calibration.edges"],
            arrays["calibration.centres"],
            arrays["calibration.spreads"],
        )
        months = arrays.get("calibration.months")
        detector.reference_months_ = float(months) if months is not None else np.nan
        return detector
