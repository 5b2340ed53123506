"""``TradeAnomalyModel``: forecaster and detectors trained together, scored together."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

from anomaly.detect.calibration import BinnedZCalibration, StoufferCalibration
from anomaly.detect.iforest import IsolationForestDetector, series_features
from anomaly.detect.mirror import MirrorRatios, mirror_targets, mirror_values
from anomaly.errors import DataError, NotFittedError
from anomaly.forecast.base import Forecaster
from anomaly.forecast.pooled import PooledForecaster
from anomaly.model.evidence import WindowEvidence, WindowScorer
from anomaly.model.leads import (
    Calibration,
    build_leads,
    calibrated_statistics,
    detector_pvalues,
    ensemble_scores,
    mirror_statistic,
)
from anomaly.model.scores import Scores
from anomaly.panel.build import build_panel
from anomaly.panel.core import Panel, as_month
from anomaly.schema import CANONICAL_COLUMNS

logger = logging.getLogger(__name__)

#: In-scope placebo series needed to calibrate the alert threshold among them alone.
MIN_SCOPE_SERIES = 100


class TradeAnomalyModel:
    """Learn each flow's pre-war path; score later months for sanctions-evasion signatures.

    Parameters
    ----------
    forecaster : Forecaster, optional
        The counterfactual model (default :class:`~anomaly.forecast.PooledForecaster`).
    hs_level : int
        HS digits that define a series (6: HS subheadings, the CHP list's level).
    chp_version : str
        Version of the Common High Priority list whose goods are "controlled";
        goods off the list give the general-demand control.
    placebo_months : int
        Length of the placebo window at the end of the training window on which the
        detectors are calibrated (forecast from the months before it).
    false_alarm_rate : float
        Share of series that alert on data with no evasion (the placebo); sets the
        alert threshold.
    n_estimators : int
        Trees of the isolation-forest detector.
    random_state : int
        Seed of every random step.

    Examples
    --------
    >>> from anomaly.demo import demo_flows
    >>> model = TradeAnomalyModel().fit(demo_flows(), "2020-01", "2021-12")  # doctest: +SKIP
    >>> scores = model.score(demo_flows(), "2022-01", "2022-11")  # doctest: +SKIP
    >>> scores.leads.head()  # doctest: +SKIP
    """

    def __init__(
        self,
        forecaster: Forecaster | None = None,
        *,
        hs_level: int = 6,
        chp_version: str = "2024-02",
        placebo_months: int = 12,
        false_alarm_rate: float = 0.01,
        n_estimators: int = 200,
        random_state: int = 0,
    ) -> None:
        self.forecaster = forecaster
        self.hs_level = hs_level
        self.chp_version = chp_version
        self.placebo_months = placebo_months
        self.false_alarm_rate = false_alarm_rate
        self.n_estimators = n_estimators
        self.random_state = random_state

    # -- training ----------------------------------------------------------------

    def fit(
        self,
        flows: pd.DataFrame | Panel,
        train_start: str | pd.Period = "2015-01",
        train_end: str | pd.Period = "2021-12",
    ) -> TradeAnomalyModel:
        """Fit the forecaster on ``train_start..train_end`` and calibrate the detectors.

        The last :attr:`placebo_months` of the window are first forecast from the
        months before them and scored as if they were post-war: the detectors'
        statistics there (where no evasion is assumed) calibrate their p-values, train
        the isolation forest and set the alert threshold. Then the forecaster is fitted
        on the whole window.

        Returns
        -------
        self
        """
        panel = self._panel(flows)
        start, end = as_month(train_start), as_month(train_end)
        train = panel.window(start, end)
        reported = ~np.isnan(train.values).all(axis=1)
        if not reported.any():
            raise DataError(f"no flows reported in the training window {start}..{end}")
        train = train.select(reported)
        n_months = train.n_periods
        placebo = min(self.placebo_months, n_months // 3)
        if placebo < 3:
            raise DataError(
                f"the training window {start}..{end} has {n_months} months",
                expected="at least 9 months (to calibrate the detectors on a placebo window)",
            )
        base = self.forecaster if self.forecaster is not None else PooledForecaster()
        controlled = self._controlled_codes()

        placebo_start = end - placebo + 1
        inner = WindowScorer(
            base.clone().fit(train, start, placebo_start - 1),
            train.keys,
            _learn_ratios(train.window(start, placebo_start - 1)),
            controlled,
        )
        context = inner.context(train, placebo_start, end)
        self.calibration_ = self._calibrate(inner.evidence(train, placebo_start, end, context))

        self.scorer_ = WindowScorer(
            base.clone().fit(train, start, end), train.keys, _learn_ratios(train), controlled
        )
        self.currency_ = train.currency
        self.train_window_ = (str(start), str(end))
        self.data_fingerprint_ = fingerprint(train)
        return self

    def _calibrate(self, evidence: WindowEvidence) -> Calibration:
        summary = evidence.summary
        residual = StoufferCalibration.from_placebo(evidence.monthly["z"])
        mirror = BinnedZCalibration.from_placebo(*mirror_statistic(summary))
        stats = calibrated_statistics(summary, residual, mirror, self._transit())
        iforest = IsolationForestDetector(
            n_estimators=self.n_estimators, random_state=self.random_state
        ).fit(series_features(stats))
        scores = ensemble_scores(detector_pvalues(stats, iforest))
        # Alerts are raised on in-scope series only, so their false-alarm rate is
        # calibrated among them (all series when the placebo has too few).
        scope = stats["in_scope"].to_numpy()
        reference = scores[scope] if scope.sum() >= MIN_SCOPE_SERIES else scores
        threshold = float(np.quantile(reference, 1 - self.false_alarm_rate))
        logger.info("placebo calibration on %d series: alert threshold %.2f", len(stats), threshold)
        return Calibration(residual, mirror, iforest, threshold)

    # -- scoring -----------------------------------------------------------------

    def score(
        self,
        flows: pd.DataFrame | Panel,
        start: str | pd.Period,
        end: str | pd.Period | None = None,
    ) -> Scores:
        """Score months ``start..end`` (default: through the last month in ``flows``).

        Returns
        -------
        Scores
            ``.leads`` (one row per series, best first) and ``.frame`` (one row per
            series-month).
        """
        self._check_fitted()
        panel = self.scorer_.with_trained_series(self._panel(flows))
        first, last = self.scoring_window(start, end, panel)
        context = self.scorer_.context(panel, first, last)
        evidence = self.scorer_.evidence(panel, first, last, context)
        return self.scores_from_evidence(evidence, panel)

    def scoring_window(
        self, start: str | pd.Period, end: str | pd.Period | None, panel: Panel
    ) -> tuple[pd.Period, pd.Period]:
        """The scoring window as periods, checked against the training window."""
        first = as_month(start)
        last = as_month(end) if end is not None else panel.periods[-1]
        if first <= as_month(self.train_window_[1]):
            raise DataError(
                f"the scoring window starts at {first}, inside the training window "
                f"{self.train_window_[0]}..{self.train_window_[1]}",
                expected="a start after the training window",
            )
        if last < first:
            raise DataError(f"the scoring window ends ({last}) before it starts ({first})")
        return first, last

    def scores_from_evidence(self, evidence: WindowEvidence, panel: Panel | None = None) -> Scores:
        """Rank leads from a window's evidence (of one panel, or of chunks concatenated).

        ``panel``, if given, supplies the months before the window for the top leads'
        charts.
        """
        currency = (panel.currency if panel is not None else None) or self.currency_
        leads = self.rank_leads(evidence.summary, evidence.periods, currency=currency)
        return Scores.from_evidence(leads, evidence, panel, currency=currency)

    def rank_leads(
        self, summary: pd.DataFrame, periods: pd.PeriodIndex, *, currency: str | None = None
    ) -> pd.DataFrame:
        """The leads table from a window's per-series summary (``WindowEvidence.summary``).

        What :meth:`scores_from_evidence` ranks, without the series-month detail, for
        runs that keep that detail on disk. ``currency`` defaults to the model's.
        """
        if summary.empty:
            raise DataError(f"no flows reported in the scoring window {periods[0]}..{periods[-1]}")
        calibration = self.calibration_
        stats = calibrated_statistics(
            summary, calibration.residual, calibration.mirror, self._transit()
        )
        return build_leads(
            stats,
            detector_pvalues(stats, calibration.iforest),
            calibration.threshold,
            currency=currency or self.currency_,
            window_label=_window_label(periods[0], periods[-1]),
        )

    @property
    def forecaster_(self) -> Forecaster:
        """The fitted forecaster."""
        self._check_fitted()
        return self.scorer_.forecaster

    @property
    def keys_(self) -> pd.DataFrame:
        """Keys of the trained series, in the forecaster's row order."""
        self._check_fitted()
        return self.scorer_.keys

    @property
    def mirror_ratios_(self) -> MirrorRatios:
        """Normal mirror ratios learned on the training window."""
        self._check_fitted()
        return self.scorer_.ratios

    def _check_fitted(self) -> None:
        if not hasattr(self, "scorer_"):
            raise NotFittedError("TradeAnomalyModel is not fitted; call fit() first")

    # -- persistence -------------------------------------------------------------

    def save(self, path):
        """Write the fitted model as a safe, versioned artifact directory.

        See ``docs/artifact-format.md``; :func:`anomaly.load` reads it back.

        Returns
        -------
        pathlib.Path
        """
        from anomaly.model.persist import save_model

        return save_model(self, path)

    @classmethod
    def load(cls, path, *, strict: bool = True) -> TradeAnomalyModel:
        """Read a model artifact (directory or ``.zip``), verified before use."""
        from anomaly.model.persist import load_model

        return load_model(path, strict=strict)

    # -- helpers -----------------------------------------------------------------

    def _panel(self, flows: pd.DataFrame | Panel) -> Panel:
        if isinstance(flows, Panel):
            return flows
        missing = [c for c in CANONICAL_COLUMNS if c not in flows.columns]
        if missing:
            raise DataError(
                f"the flows table lacks columns {missing}",
                expected=f"the canonical columns {list(CANONICAL_COLUMNS)} (anomaly.read_flows)",
            )
        return build_panel(flows, hs_level=self.hs_level)

    def _controlled_codes(self) -> frozenset[str]:
        from anomaly.reference import chp_codes

        return frozenset(chp_codes(self.chp_version))

    @staticmethod
    def _transit() -> frozenset[str]:
        from anomaly.reference import country_group

        return country_group("transit")


def _learn_ratios(train: Panel) -> MirrorRatios:
    """Normal mirror ratios of every export series whose partner publishes."""
    published = train.published_mask()
    publishing = set(train.keys["reporter"][published.any(axis=1)])
    targets = mirror_targets(train, publishing)
    exports = np.where(
        published[targets.declared], np.nan_to_num(train.values[targets.declared]), np.nan
    )
    imports = mirror_values(train, targets, published)
    return MirrorRatios.learn(train.keys.iloc[targets.declared], exports, imports)


def fingerprint(panel: Panel) -> str:
    """sha256 of the training data as the model saw it (keys, months and values)."""
    digest = hashlib.sha256()
    digest.update(panel.keys.to_csv(index=False).encode())
    digest.update(",".join(str(p) for p in panel.periods).encode())
    digest.update(np.ascontiguousarray(panel.values, dtype="<f8").tobytes())
    return digest.hexdigest()


def _window_label(first: pd.Period, last: pd.Period) -> str:
    if first.month == 1 and last.month == 12 and first.year == last.year:
        return str(first.year)
    return f"{first}..{last}"
