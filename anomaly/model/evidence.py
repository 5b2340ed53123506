"""Per-series evidence of one window: the counterfactual, demand control and detector summaries.

This is the heavy, per-series part of scoring; everything after it works on the
one-row-per-series summary it returns. It needs each export beside its mirror import,
so a chunked or distributed run partitions series by unordered country pair and HS
code, and reads one month beyond the window (for shipping lags). What spans chunks —
who published when, general demand — comes in a :class:`ScoringContext`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from anomaly.detect import DetectionConfig, Ensemble, ScoringWindow, residual_summary
from anomaly.forecast import UNSEEN, Forecaster
from anomaly.model.context import ScoringContext, build_context, destination
from anomaly.panel import Panel, key_index, positions
from anomaly.reference import hs2022_predecessors, is_controlled

logger = logging.getLogger(__name__)

#: Columns of the counterfactual evidence taken from :func:`residual_summary`.
RESIDUAL_COLUMNS = (
    "n_months",
    "actual",
    "expected",
    "lower",
    "upper",
    "excess_value",
    "stouffer_z",
    "persistence",
)


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


@dataclass(frozen=True)
class WindowScorer:
    """A fitted forecaster and ensemble with the series they were fitted on.

    Attributes
    ----------
    forecaster : Forecaster
    keys : pandas.DataFrame
        The series the forecaster was fitted on, in its row order.
    ensemble : Ensemble
        The detectors (fitted, or only learned for a placebo window).
    controlled_codes : frozenset of str or None
        HS codes of the controlled goods (None: every good;
        :func:`~anomaly.reference.controlled_codes`).
    config : DetectionConfig
    norms : pandas.DataFrame
        The reporters' usual months in training
        (:func:`~anomaly.model.context.publication_norms`).
    """

    forecaster: Forecaster
    keys: pd.DataFrame
    ensemble: Ensemble
    controlled_codes: frozenset[str] | None
    config: DetectionConfig
    norms: pd.DataFrame

    @cached_property
    def key_index(self) -> pd.MultiIndex:
        """:func:`~anomaly.panel.key_index` of the trained series (built once: a batch
        worker looks up every partition's series in it)."""
        return key_index(self.keys)

    @cached_property
    def unknown_history(self) -> dict[str, tuple[str, ...]]:
        """Codes new in HS2022 without a trained series, with their HS2017 predecessors.

        The panel files a predecessor's rows under its HS2022 successor, so a code new
        in HS2022 with no trained series had none of its predecessors in the training
        data: its history is unknown, not zero.
        """
        trained = set(self.keys["hs"].astype(str).str[:6])
        return {
            code: before for code, before in hs2022_predecessors().items() if code not in trained
        }

    def history_known(self, keys: pd.DataFrame) -> np.ndarray:
        """Whether each series' history before the window is in the data (see
        :attr:`unknown_history`)."""
        hs = keys["hs"].astype(str)
        unknown = (hs.str.len() >= 6) & hs.str[:6].isin(self.unknown_history)
        return ~unknown.to_numpy()

    def history_notes(self, keys: pd.DataFrame, known: pd.Series) -> np.ndarray:
        """What an explanation says of a series whose history is not in the data
        (``None`` where it is)."""
        notes = {
            code: (
                f"history not in the data: code new in HS2022, its HS2017 predecessor"
                f"{'s' if len(before) > 1 else ''} {', '.join(before)} absent from the input"
            )
            for code, before in self.unknown_history.items()
        }
        hs6 = keys["hs"].astype(str).str[:6].to_numpy()
        return np.where(known.to_numpy(), None, pd.Series(hs6).map(notes).to_numpy())

    def controlled(self, keys: pd.DataFrame) -> np.ndarray:
        """Whether each series' good is on the control list."""
        return is_controlled(keys["hs"], self.controlled_codes)

    def with_trained_series(self, panel: Panel, keys: pd.DataFrame | None = None) -> Panel:
        """``panel`` plus an empty row for each trained series it lacks (see
        :meth:`TradeAnomalyModel.with_trained_series`)."""
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
            extended.keys,
            extended.values,
            extended.periods,
            expected,
            uncontrolled,
            self.norms,
            sanctioned=self.config.sanctioned,
        )

    def evidence(
        self, panel: Panel, start: pd.Period, end: pd.Period, context: ScoringContext
    ) -> WindowEvidence:
        """Evidence for months ``start..end`` of the series of ``panel``."""
        window = panel.window(start, end)
        n_months = window.n_periods
        published = context.published_mask(
            window.keys["reporter"], n_months, flows=window.keys["flow"], hs=window.keys["hs"]
        )
        has_data = published.any(axis=1)
        window = window.select(has_data)
        published = published[has_data]
        controlled = self.controlled(window.keys)
        actual = np.nan_to_num(window.values.astype(np.float64), nan=0.0)
        rows = positions(self.key_index, window.keys)
        forecast = self.forecaster.predict(start, end, series=rows)

        # Every good of a destination is read against its general demand, controlled
        # or not: a boom in everything is not a lead, whatever the good.
        growth = context.growth(self.config)
        route = pd.MultiIndex.from_arrays([destination(window.keys), window.keys["flow"]])
        factor = growth.reindex(route).fillna(1.0).to_numpy()
        coverage = self.config.band_coverage
        residual = residual_summary(
            forecast, actual, published, demand_factor=factor, coverage=coverage
        )

        summary = window.keys.copy()
        for name in RESIDUAL_COLUMNS:
            summary[name] = residual[name]
        labels = np.asarray(window.periods.astype(str), dtype=object)
        onset = residual["onset"]
        summary["onset"] = np.where(onset >= 0, labels[np.maximum(onset, 0)], None)
        summary["demand_factor"] = factor
        summary["controlled"] = controlled
        trained = {
            "trained_nonzero": self.forecaster.series_info_["n_nonzero"].to_numpy(),
            "trained_months": self.forecaster.occurrence_months(),
        }
        for name, per_series in trained.items():  # 0 for a series the model never fitted
            summary[name] = np.where(rows >= 0, per_series[np.maximum(rows, 0)], 0)
        summary["history_known"] = self.history_known(window.keys)
        summary["history_note"] = self.history_notes(window.keys, summary["history_known"])
        if not summary["history_known"].all():
            codes = sorted(set(window.keys["hs"].astype(str).str[:6][~summary["history_known"]]))
            logger.info(
                "%d series of codes new in HS2022 have no history in the data (their HS2017 "
                "predecessors are absent): %s",
                int((~summary["history_known"]).sum()),
                ", ".join(f"{c} (was {'/'.join(self.unknown_history[c])})" for c in codes),
            )
        scoring_window = ScoringWindow(
            panel=panel.window(start, end + 1),
            window=window,
            published=published,
            z_months=residual["z_months"],
            publishers=context.published.index[context.published.any(axis=1)],
            published_mask=context.published_mask,
            history_known=summary["history_known"].to_numpy(dtype=bool),
        )
        for name, values in self.ensemble.summarise(scoring_window).items():
            summary[name] = values

        monthly = {
            "actual": np.where(published, actual, np.nan),
            "expected": residual["expected_months"],
            "lower": residual["lower_months"],
            "upper": residual["upper_months"],
            "z": residual["z_months"],
        }
        return WindowEvidence(summary, monthly, window.periods)
