"""Per-series evidence of one window: forecasts, residuals, mirror gaps, demand control.

This is the heavy, per-series part of scoring; everything after it works on the
one-row-per-series summary it returns. It needs each export beside its mirror import,
so a chunked or distributed run partitions series by unordered country pair and HS
code, and reads one month beyond the window (for shipping lags). What spans chunks —
who published when, general demand — comes in a :class:`ScoringContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from anomaly.detect.mirror import MirrorRatios, mirror_summary, mirror_targets
from anomaly.detect.residual import residual_summary
from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.model.context import ScoringContext, build_context, destination
from anomaly.panel.core import Panel
from anomaly.schema import SERIES_KEY_COLUMNS

MIRROR_COLUMNS = {
    "sent": "mirror_sent",
    "received": "mirror_received",
    "expected_received": "mirror_expected",
    "not_received": "not_received",
    "mirror_gap": "mirror_gap",
    "log_departure": "log_departure",
}


@dataclass(frozen=True)
class WindowEvidence:
    """The summary table (one row per series) and the monthly detail of a window."""

    summary: pd.DataFrame
    monthly: dict[str, np.ndarray]
    periods: pd.PeriodIndex

    @classmethod
    def concat(cls, parts: list[WindowEvidence]) -> WindowEvidence:
        """Evidence of several chunks of series, as one."""
        if not parts:
            raise ValueError("no evidence to concatenate")
        summary = pd.concat([p.summary for p in parts], ignore_index=True)
        monthly = {k: np.vstack([p.monthly[k] for p in parts]) for k in parts[0].monthly}
        return cls(summary, monthly, parts[0].periods)


def positions(trained: pd.DataFrame | pd.MultiIndex, keys: pd.DataFrame) -> np.ndarray:
    """Row of each ``keys`` series among the ``trained`` series (``UNSEEN`` if absent).

    ``trained`` may be given as its :func:`key_index`, to build that once for many calls.
    """
    index = trained if isinstance(trained, pd.MultiIndex) else key_index(trained)
    return index.get_indexer(key_index(keys)).astype(np.int64)


def key_index(frame: pd.DataFrame) -> pd.MultiIndex:
    """The series keys of ``frame`` as an index (its rows must be distinct series)."""
    return pd.MultiIndex.from_frame(frame[list(SERIES_KEY_COLUMNS)])


@dataclass(frozen=True)
class WindowScorer:
    """A fitted forecaster with what it was fitted on: scores windows of panels.

    Attributes
    ----------
    forecaster : Forecaster
    keys : pandas.DataFrame
        The series the forecaster was fitted on, in its row order.
    ratios : MirrorRatios
        Normal mirror ratios of the same training window.
    controlled_codes : frozenset of str
        HS6 codes on the control list.
    """

    forecaster: Forecaster
    keys: pd.DataFrame
    ratios: MirrorRatios
    controlled_codes: frozenset[str]

    @cached_property
    def key_index(self) -> pd.MultiIndex:
        """:func:`key_index` of the trained series (built once: a batch worker looks
        up every partition's series in it)."""
        return key_index(self.keys)

    def controlled(self, keys: pd.DataFrame) -> np.ndarray:
        """Whether each series' good is on the control list."""
        return keys["hs"].str[:6].isin(self.controlled_codes).to_numpy()

    def with_trained_series(self, panel: Panel, keys: pd.DataFrame | None = None) -> Panel:
        """``panel`` plus an empty row for each trained series it lacks.

        A flow that stopped entirely has no rows in new data; it must still be scored
        (as zero where its reporter published) for a collapse to be seen. ``keys``
        restricts this to some trained series (rows of :attr:`keys`, in their order),
        e.g. those of one partition of a chunked run.
        """
        trained = self.keys if keys is None else keys
        missing = positions(panel.keys, trained) == UNSEEN
        if not missing.any():
            return panel
        keys = pd.concat([panel.keys, trained[missing]], ignore_index=True)
        blank = np.full((int(missing.sum()), panel.n_periods), np.nan, dtype=panel.values.dtype)
        extra = {k: np.vstack([v, blank]) for k, v in panel.extra.items()}
        return Panel(keys, panel.periods, np.vstack([panel.values, blank]), panel.currency, extra)

    def context(self, panel: Panel, start: pd.Period, end: pd.Period) -> ScoringContext:
        """This panel's share of the scoring context (merge the shares of all chunks)."""
        extended = panel.window(start, end + 1)
        uncontrolled = ~self.controlled(extended.keys)
        expected = np.zeros((extended.n_series, extended.n_periods - 1))
        if uncontrolled.any():
            rows = positions(self.key_index, extended.keys.loc[uncontrolled])
            expected[uncontrolled] = self.forecaster.predict(start, end, series=rows).mean
        return build_context(
            extended.keys, extended.values, extended.periods, expected, uncontrolled
        )

    def evidence(
        self, panel: Panel, start: pd.Period, end: pd.Period, context: ScoringContext
    ) -> WindowEvidence:
        """Evidence for months ``start..end`` of the series of ``panel``."""
        window = panel.window(start, end)
        n_months = window.n_periods
        published = context.published_mask(window.keys["reporter"], n_months)
        has_data = published.any(axis=1)
        window = window.select(has_data)
        published = published[has_data]
        controlled = self.controlled(window.keys)
        actual = np.nan_to_num(window.values.astype(np.float64), nan=0.0)
        rows = positions(self.key_index, window.keys)
        forecast = self.forecaster.predict(start, end, series=rows)

        growth = context.growth()
        route = pd.MultiIndex.from_arrays([destination(window.keys), window.keys["flow"]])
        factor = np.where(controlled, growth.reindex(route).fillna(1.0).to_numpy(), 1.0)
        residual = residual_summary(forecast, actual, published, demand_factor=factor)

        summary = window.keys.copy()
        for name in ("n_months", "actual", "expected", "lower", "upper", "excess_value"):
            summary[name] = residual[name]
        summary["stouffer_z"] = residual["stouffer_z"]
        summary["persistence"] = residual["persistence"]
        labels = np.asarray(window.periods.astype(str), dtype=object)
        onset = residual["onset"]
        summary["onset"] = np.where(onset >= 0, labels[np.maximum(onset, 0)], None)
        summary["demand_factor"] = factor
        summary["controlled"] = controlled
        info = self.forecaster.series_info_["n_nonzero"].to_numpy()
        summary["trained_nonzero"] = np.where(rows >= 0, info[np.maximum(rows, 0)], 0)
        summary = summary.join(self._mirror(panel, window, published, context, start, end))

        lower, upper = forecast.interval(0.9)
        monthly = {
            "actual": np.where(published, actual, np.nan),
            "expected": forecast.mean * factor[:, None],
            "lower": lower * factor[:, None],
            "upper": upper * factor[:, None],
            "z": residual["z_months"],
        }
        return WindowEvidence(summary, monthly, window.periods)

    def _mirror(
        self,
        panel: Panel,
        window: Panel,
        published: np.ndarray,
        context: ScoringContext,
        start: pd.Period,
        end: pd.Period,
    ) -> pd.DataFrame:
        """Mirror evidence for each export series of ``window`` whose partner publishes."""
        out = pd.DataFrame(np.nan, index=window.keys.index, columns=list(MIRROR_COLUMNS.values()))
        publishing = set(context.published.index[context.published.any(axis=1)])
        targets = mirror_targets(window, publishing)
        if not len(targets.declared):
            return out
        # One month more on the import side, to read a shipping lag at the window's end.
        extended = panel.window(start, end + 1).select(positions(panel.keys, window.keys))
        partner = window.keys["partner"].to_numpy()[targets.declared]
        partner_published = context.published_mask(partner)
        filed = targets.mirror >= 0
        imports = np.zeros((len(targets.declared), extended.n_periods))
        imports[filed] = np.nan_to_num(extended.values[targets.mirror[filed]], nan=0.0)
        imports = np.where(partner_published, imports, np.nan)
        exports = np.where(
            published[targets.declared], np.nan_to_num(window.values[targets.declared]), 0.0
        )
        ratio = self.ratios.lookup(window.keys.iloc[targets.declared])
        summary = mirror_summary(exports, imports, ratio)
        for source, target in MIRROR_COLUMNS.items():
            out.iloc[targets.declared, out.columns.get_loc(target)] = summary[source]
        return out
