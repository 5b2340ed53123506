"""``TradeAnomalyModel``: forecaster and detectors trained together, scored together."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly.detect import (
    DetectionConfig,
    Detector,
    Ensemble,
    PlaceboEvidence,
    default_detectors,
)
from anomaly.errors import ArtifactError, CurrencyError, DataError, NotFittedError
from anomaly.forecast import Forecaster, PooledForecaster
from anomaly.io import CURRENCY_CONVERSION, TOTAL_HS, validate_flows
from anomaly.model.context import ScoringContext, build_context, publication_norms
from anomaly.model.evidence import WindowEvidence, WindowScorer
from anomaly.model.leads import build_leads
from anomaly.model.outputs import demand_record
from anomaly.model.persist import Components, read_components, save_components
from anomaly.model.placebo import MIN_PLACEBO_MONTHS, placebo_length
from anomaly.model.scores import Scores
from anomaly.panel import Panel, as_month, build_panel, positions
from anomaly.progress import logged_step
from anomaly.reference import controlled_codes
from anomaly.schema import CANONICAL_COLUMNS

logger = logging.getLogger(__name__)

#: Below this share of scored series seen in training, scoring warns.
MIN_OVERLAP = 0.5
#: Rows of the training matrix hashed at a time by :func:`fingerprint`.
FINGERPRINT_ROWS = 100_000
#: Constructor parameters stored in an artifact (the detectors and the shared
#: detection settings are stored by their own state).
MODEL_PARAMS = (
    "hs_level",
    "chp_version",
    "controlled",
    "placebo_months",
    "false_alarm_rate",
    "n_estimators",
    "random_state",
)


class TradeAnomalyModel:
    """Learn each flow's pre-war path; score later months for sanctions-evasion signatures.

    Parameters
    ----------
    forecaster : Forecaster, optional
        The counterfactual model (default :class:`~anomaly.forecast.PooledForecaster`).
    hs_level : int
        HS digits that define a series (6: HS subheadings, the CHP list's level).
    chp_version : str
        Version of the Common High Priority list (:data:`~anomaly.reference.CHP_VERSIONS`)
        that gives each good's tier, and the controlled goods when ``controlled`` is
        ``"chp"``.
    controlled : {"chp", "all"} or sequence of str
        The controlled goods: only their routes into transit countries and sanctioned
        destinations can alert, and the other goods give each destination's
        general-demand control. ``"chp"``: the CHP list; ``"all"``: every good (then no
        demand control: there is nothing left to read it from); or HS codes of 2, 4 or
        6 digits, each standing for the codes under it (an export-control annex,
        :func:`~anomaly.reference.read_code_list`).
    placebo_months : int
        Length of the placebo window at the end of the training window on which the
        detectors are calibrated (forecast from the months before it).
    false_alarm_rate : float
        Share of series that alert on data with no evasion (the placebo); sets the
        alert threshold.
    n_estimators : int
        Trees of the isolation-forest detector (of the default detectors).
    random_state : int
        Seed of every random step.
    detectors : sequence of Detector, optional
        The detectors, in the order their p-values and signals are listed (default:
        :func:`~anomaly.detect.default_detectors`). Each is fitted as a copy with
        ``detection`` as its settings. A detector written elsewhere needs
        :func:`~anomaly.detect.register_detector` for a saved model to load.
    detection : DetectionConfig, optional
        Settings shared by the detectors (sanctioned destinations, transit group,
        band coverage, ...); default ``DetectionConfig()``.

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
        controlled: str | Sequence[str] = "chp",
        placebo_months: int = 12,
        false_alarm_rate: float = 0.01,
        n_estimators: int = 200,
        random_state: int = 0,
        detectors: Sequence[Detector] | None = None,
        detection: DetectionConfig | None = None,
    ) -> None:
        self.forecaster = forecaster
        self.hs_level = hs_level
        self.chp_version = chp_version
        self.controlled = controlled
        self.placebo_months = placebo_months
        self.false_alarm_rate = false_alarm_rate
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.detectors = detectors
        self.detection = detection

    # -- training ----------------------------------------------------------------

    def fit(
        self,
        flows: pd.DataFrame | Panel,
        train_start: str | pd.Period | None = None,
        train_end: str | pd.Period = "2021-12",
    ) -> TradeAnomalyModel:
        """Fit the forecaster on ``train_start..train_end`` and calibrate the detectors.

        The last :attr:`placebo_months` of the window are first forecast from the
        months before them and scored as if they were post-war: the detectors'
        statistics there (where no evasion is assumed) calibrate their p-values, train
        the isolation forest and set the alert threshold. Then the forecaster is fitted
        on the whole window.

        Parameters
        ----------
        flows : pandas.DataFrame or Panel
            Canonical flows (:func:`anomaly.read_flows`; a table built otherwise is
            checked by :func:`anomaly.validate_flows` first) or a panel of them.
        train_start : str or pandas.Period, optional
            First training month; default: the first month in the data. A month before
            the data is refused: months the file does not cover are unknown, not
            months without trade.
        train_end : str or pandas.Period
            Last training month (the last pre-war month by default); it must lie
            within the data.

        Returns
        -------
        self

        Raises
        ------
        DataError
            A training window outside the data, or too short to calibrate on.
        """
        if isinstance(flows, Panel):
            panel = flows
        else:
            with logged_step("training: panel"):
                panel = self._panel(flows)
        start, end = training_window(panel, train_start, train_end)
        logger.info(
            "training window %s..%s (months read: %s..%s)",
            start,
            end,
            panel.periods[0],
            panel.periods[-1],
        )
        # Views of the panel's matrix where possible, not copies: the fit reads them only.
        train = panel.window(start, end, copy=False)
        reported = ~np.isnan(train.values).all(axis=1)
        if not reported.any():
            raise DataError(f"no flows reported in the training window {start}..{end}")
        if not reported.all():
            train = train.select(reported)
        base, ensemble, controlled = self.unfitted_parts()
        config = ensemble.config

        placebo_start = self.placebo_start(start, end)
        before = train.window(start, placebo_start - 1, copy=False)
        with logged_step("training: forecaster fit before the placebo window"):
            inner = WindowScorer(
                base.clone().fit(train, start, placebo_start - 1),
                train.keys,
                ensemble.learned(before),
                controlled,
                config,
                publication_norms(before.keys, before.values),
            )
        with logged_step("training: placebo window scored"):
            context = inner.context(train, placebo_start, end)
            evidence = inner.evidence(train, placebo_start, end, context)
        with logged_step("training: detectors calibrated on the placebo window"):
            ensemble.fit(train, PlaceboEvidence(evidence.summary, evidence.monthly["z"]))
        del inner, context, evidence

        with logged_step("training: forecaster fit on the training window"):
            norms = publication_norms(train.keys, train.values)
            scorer = WindowScorer(
                base.clone().fit(train, start, end), train.keys, ensemble, controlled, config, norms
            )
        return self.set_fitted(
            scorer,
            currency=train.currency,
            train_window=(start, end),
            data_fingerprint=fingerprint(train),
            keys=panel.keys,
        )

    def unfitted_parts(self) -> tuple[Forecaster, Ensemble, frozenset[str] | None]:
        """What :meth:`fit` trains, unfitted: the forecaster, the detectors' ensemble
        (with the model's shared settings) and the controlled goods' codes (None: every
        good). A fit over partitions (:func:`anomaly.batch.fit_partitioned`) trains
        them as :meth:`fit` does."""
        base = self.forecaster if self.forecaster is not None else PooledForecaster()
        return base, self._ensemble(), self._controlled_codes()

    def placebo_start(self, start: pd.Period, end: pd.Period) -> pd.Period:
        """The first month of the placebo window at the end of the training window
        ``start..end`` (:attr:`placebo_months`, at most a third of the window).

        Raises
        ------
        DataError
            A window too short to calibrate on.
        """
        n_months = end.ordinal - start.ordinal + 1
        placebo = placebo_length(self.placebo_months, n_months)
        if placebo < MIN_PLACEBO_MONTHS:
            raise DataError(
                f"the training window {start}..{end} has {n_months} months",
                expected=f"at least {3 * MIN_PLACEBO_MONTHS} months (to calibrate the "
                "detectors on a placebo window)",
            )
        return end - placebo + 1

    def set_fitted(
        self,
        scorer: WindowScorer,
        *,
        currency: str | None,
        train_window: tuple[pd.Period, pd.Period],
        data_fingerprint: str,
        keys: pd.DataFrame,
    ) -> TradeAnomalyModel:
        """Make this model the one :meth:`fit` trains when it trains ``scorer``.

        Parameters
        ----------
        scorer : WindowScorer
            The fitted forecaster and ensemble, with the trained series' keys.
        currency : str or None
            The training data's currency.
        train_window : tuple of pandas.Period
            The training window's first and last months.
        data_fingerprint : str
            :func:`fingerprint` of the training panel.
        keys : pandas.DataFrame
            The keys of every series of the input (trained or not), for the codes new
            in HS2022 without history.

        Returns
        -------
        self
        """
        self.scorer_ = scorer
        self.currency_ = currency
        self.train_window_ = tuple(str(month) for month in train_window)
        self.data_fingerprint_ = data_fingerprint
        self.no_history_codes_ = self._no_history_codes(keys)
        if self.no_history_codes_:
            logger.info(
                "%d codes new in HS2022 have no history in the training data (their HS2017 "
                "predecessors are absent from the input), so their series are read without "
                "one: %s",
                len(self.no_history_codes_),
                describe_no_history(self.no_history_codes_),
            )
        return self

    def _no_history_codes(self, keys: pd.DataFrame) -> dict[str, list[str]]:
        """Codes new in HS2022 without a trained series (their predecessors absent from
        the input), among those the input's ``keys`` hold or the control list names,
        with their HS2017 predecessors."""
        codes = set(keys["hs"].astype(str).str[:6])
        controlled = self._controlled_codes()
        if controlled is not None:
            codes |= {code[:6] for code in controlled}
        unknown = self.scorer_.unknown_history
        return {code: list(unknown[code]) for code in sorted(codes & set(unknown))}

    def _ensemble(self) -> Ensemble:
        """Unfitted copies of the detectors, with the model's shared settings."""
        config = self.detection if self.detection is not None else DetectionConfig()
        if self.detectors is None:
            detectors = default_detectors(
                config, n_estimators=self.n_estimators, random_state=self.random_state
            )
        else:
            detectors = [detector.clone(config) for detector in self.detectors]
        return Ensemble(detectors, config, self.false_alarm_rate)

    # -- scoring -----------------------------------------------------------------

    def score(
        self,
        flows: pd.DataFrame | Panel,
        start: str | pd.Period,
        end: str | pd.Period | None = None,
        *,
        demand: pd.DataFrame | None = None,
    ) -> Scores:
        """Score months ``start..end`` (default: through the last month in ``flows``).

        The two passes that :mod:`anomaly.batch` runs over partitions of series, run
        over the whole panel: :meth:`context`, then :meth:`evidence`, then
        :meth:`scores_from_evidence`.

        ``demand``, canonical flows of other goods (a file of each exporter's total
        trade, say), is the general-demand control when ``flows`` holds no goods off
        the control list to read it from (:meth:`demand_control`).

        ``flows`` are canonical flows (:func:`anomaly.read_flows`; a table built
        otherwise is checked by :func:`anomaly.validate_flows` first) or a panel of
        them, in the model's currency (:meth:`check_currency`): convert
        data in another with :func:`anomaly.io.convert_currency` first, whose record
        of the conversion ``run.json`` keeps (``currency_conversion``).

        Returns
        -------
        Scores
            ``.leads`` (one row per series, best first) and ``.frame`` (one row per
            series-month).
        """
        data = self._panel(flows)
        self.check_currency(data.currency)
        panel = self.with_trained_series(data)
        first, last = self.scoring_window(start, end, panel)
        self._check_overlap(data, first, last)
        context = self.context(panel, first, last)
        if demand is not None:
            context = context.with_demand(self.demand_control(demand, first, last))
        evidence = self.evidence(panel, first, last, context)
        coverage = context.coverage()
        if len(coverage):
            logger.info(
                "not published in full, read as missing: %s",
                "; ".join(
                    f"{status} {reporter} {rows['period'].iloc[0]}..{rows['period'].iloc[-1]}"
                    f" ({len(rows)} months)"
                    for (status, reporter), rows in coverage.groupby(["status", "reporter"])
                ),
            )
        scores = self.scores_from_evidence(evidence, panel, coverage=coverage)
        recorded = {}
        if isinstance(flows, pd.DataFrame) and CURRENCY_CONVERSION in flows.attrs:
            recorded[CURRENCY_CONVERSION] = dict(flows.attrs[CURRENCY_CONVERSION])
        if demand is not None:
            recorded["demand_control"] = demand_record(demand)
        return replace(scores, run=scores.run | recorded) if recorded else scores

    def scoring_window(
        self, start: str | pd.Period, end: str | pd.Period | None, panel: Panel
    ) -> tuple[pd.Period, pd.Period]:
        """The scoring window as periods, checked against the training window."""
        self.check_fitted()
        first = as_month(start)
        last = as_month(end) if end is not None else panel.periods[-1]
        if first <= as_month(self.train_window_[1]):
            raise DataError(
                f"the scoring window starts at {first}, inside the training window "
                f"{self.train_window_[0]}..{self.train_window_[1]}",
                expected="a start after the training window",
            )
        if end is None and last < first:
            raise DataError(
                f"the scoring window starts at {first}, after the data "
                f"({panel.periods[0]}..{last})",
                expected=f"a start of {last} or earlier",
            )
        if last < first:
            raise DataError(f"the scoring window ends ({last}) before it starts ({first})")
        if panel is not None and last > panel.periods[-1]:
            raise_after_data(last, panel.periods[-1])
        return first, last

    def check_currency(self, currency: str | None) -> None:
        """Refuse data in another currency than the model's (unknown on either side
        passes): every amount would be read on the wrong scale.

        Raises
        ------
        CurrencyError
        """
        self.check_fitted()
        if currency and self.currency_ and currency != self.currency_:
            raise CurrencyError(
                f"the data are in {currency}, the model was trained on {self.currency_} data",
                expected=f"values in {self.currency_}: convert them first "
                f"(anomaly.io.convert_currency(flows, {self.currency_!r}, rates), or "
                f"--exchange-rate RATE|FILE on the command line), or train a model on "
                f"{currency} data",
            )

    def _check_overlap(self, data: Panel, first: pd.Period, last: pd.Period) -> None:
        """Warn when few of the series with data in the window were seen in training."""
        window = data.window(first, last)
        scored = ~np.isnan(window.values).all(axis=1)
        if not scored.any():
            return
        seen = positions(self.scorer_.key_index, window.keys[scored]) >= 0
        if seen.mean() < MIN_OVERLAP:
            logger.warning(
                "only %.0f%% of the %d series with data in %s..%s were seen in training: "
                "the others are read against a generic prior for new flows (is this the "
                "data the model was trained for?)",
                100 * seen.mean(),
                int(scored.sum()),
                first,
                last,
            )

    def with_trained_series(self, panel: Panel, keys: pd.DataFrame | None = None) -> Panel:
        """``panel`` plus an empty row for each trained series it lacks.

        A flow that stopped entirely has no rows in new data; it must still be scored
        (as zero where its reporter published) for a collapse to be seen. ``keys``
        restricts this to some trained series (rows of :attr:`keys_`, in their
        order), e.g. those of one partition of a chunked run.
        """
        self.check_fitted()
        return self.scorer_.with_trained_series(panel, keys)

    def context(self, panel: Panel, start: pd.Period, end: pd.Period) -> ScoringContext:
        """Pass 1: this panel's share of what scoring needs to know about all series.

        ``panel`` holds some series (all of them, or one partition: every series of
        an unordered country pair and HS code together) over ``start..end + 1``; the
        shares of all partitions are combined with :meth:`merge_contexts`.
        """
        self.check_fitted()
        return self.scorer_.context(panel, as_month(start), as_month(end))

    def demand_control(
        self, flows: pd.DataFrame, start: str | pd.Period, end: str | pd.Period
    ) -> ScoringContext:
        """An external general-demand control for months ``start..end``.

        A file of sanctioned goods alone has nothing off the control list to read a
        destination's general demand from; trade in other goods does (Eurostat's total
        exports of each member to each destination, say). Each route's goods are summed,
        forecast from the model's training window (from the first month the file
        holds in it) with the default forecaster, and read like the model's own
        uncontrolled goods: bounded, shrunk by its spread across routes, never for a
        sanctioned destination (:meth:`ScoringContext.growth`). Give the result to
        :meth:`ScoringContext.with_demand`, or the flows to :meth:`score`'s ``demand``.

        Parameters
        ----------
        flows : pandas.DataFrame
            Canonical flows (:func:`anomaly.read_flows`) of the control's goods, in any
            currency (only growth is read).
        start, end : str or pandas.Period
            The scoring window.

        Raises
        ------
        DataError
            The flows hold no month of the training window.
        """
        self.check_fitted()
        first, last = as_month(start), as_month(end)
        flows = checked(flows)
        route = ["period", "reporter", "partner", "flow"]
        summed = flows.groupby(route, observed=True, as_index=False)["value"].sum()
        summed.attrs = dict(flows.attrs)
        panel = build_panel(summed.assign(hs=TOTAL_HS), hs_level=2)
        train_start, train_end = (as_month(month) for month in self.train_window_)
        fit_start = max(train_start, panel.periods[0])
        if fit_start > train_end:
            raise DataError(
                f"the demand control starts in {panel.periods[0]}, after the training "
                f"window {train_start}..{train_end}",
                expected="months of the training window, to forecast each route from",
            )
        forecaster = PooledForecaster().fit(panel, fit_start, train_end)
        window = panel.window(first, last + 1)
        training = panel.window(fit_start, train_end)
        return build_context(
            window.keys,
            window.values,
            window.periods,
            forecaster.predict(first, last).mean,
            np.ones(window.n_series, dtype=bool),
            publication_norms(training.keys, training.values),
        )

    @staticmethod
    def merge_contexts(contexts: Iterable[ScoringContext]) -> ScoringContext:
        """The scoring context of the union of disjoint sets of series."""
        return reduce(ScoringContext.merge, contexts)

    def evidence(
        self, panel: Panel, start: pd.Period, end: pd.Period, context: ScoringContext
    ) -> WindowEvidence:
        """Pass 2: per-series evidence of ``panel``'s series, read with the merged context.

        Evidence of several partitions is combined with :meth:`WindowEvidence.concat`
        and ranked by :meth:`scores_from_evidence` (or :meth:`rank_leads`).
        """
        self.check_fitted()
        return self.scorer_.evidence(panel, as_month(start), as_month(end), context)

    def scores_from_evidence(
        self,
        evidence: WindowEvidence,
        panel: Panel | None = None,
        *,
        coverage: pd.DataFrame | None = None,
    ) -> Scores:
        """Rank leads from a window's evidence (of one panel, or of chunks concatenated).

        ``panel``, if given, supplies the months before the window for the top leads'
        charts; ``coverage`` (:meth:`ScoringContext.coverage`) is recorded in
        ``run.json``.
        """
        currency = (panel.currency if panel is not None else None) or self.currency_
        leads = self.rank_leads(evidence.summary, evidence.periods, currency=currency)
        return Scores.from_evidence(leads, evidence, panel, currency=currency, coverage=coverage)

    def rank_leads(
        self,
        summary: pd.DataFrame,
        periods: pd.PeriodIndex,
        *,
        currency: str | None = None,
        ranked: Callable[[pd.DataFrame, np.ndarray], object] | None = None,
    ) -> pd.DataFrame:
        """The leads table from a window's per-series summary (``WindowEvidence.summary``).

        What :meth:`scores_from_evidence` ranks, without the series-month detail, for
        runs that keep that detail on disk. ``currency`` defaults to the model's.
        ``ranked(table, order)`` is called once the series are ranked, before they are
        explained (see :func:`~anomaly.model.leads.build_leads`).
        """
        self.check_fitted()
        if summary.empty:
            raise DataError(f"no flows reported in the scoring window {periods[0]}..{periods[-1]}")
        leads = build_leads(
            summary,
            self.scorer_.ensemble,
            currency=currency or self.currency_,
            window_label=_window_label(periods[0], periods[-1]),
            train_window_label=_window_label(*(as_month(m) for m in self.train_window_)),
            chp_version=self.chp_version,
            ranked=ranked,
        )
        if not leads["in_scope"].any():
            logger.warning(
                "no scored series is in scope (a good of the CHP list %s at HS6 on a route "
                "into a transit country, Russia or Belarus; the model reads HS%d): leads are "
                "ranked, but none can alert",
                self.chp_version,
                self.hs_level,
            )
        return leads

    @property
    def forecaster_(self) -> Forecaster:
        """The fitted forecaster."""
        self.check_fitted()
        return self.scorer_.forecaster

    @property
    def keys_(self) -> pd.DataFrame:
        """Keys of the trained series, in the forecaster's row order."""
        self.check_fitted()
        return self.scorer_.keys

    @property
    def detectors_(self) -> list[Detector]:
        """The fitted detectors, in the order of their p-values and signals."""
        self.check_fitted()
        return self.scorer_.ensemble.detectors

    @property
    def detection_config_(self) -> DetectionConfig:
        """The detectors' shared settings, as fitted."""
        self.check_fitted()
        return self.scorer_.ensemble.config

    @property
    def alert_threshold_(self) -> float:
        """The combined score at or above which an in-scope series alerts."""
        self.check_fitted()
        return self.scorer_.ensemble.threshold_

    def check_fitted(self) -> None:
        """Raise :class:`~anomaly.errors.NotFittedError` unless the model is fitted."""
        if not hasattr(self, "scorer_"):
            raise NotFittedError("TradeAnomalyModel is not fitted; call fit() first")

    # -- persistence -------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as a safe, versioned artifact directory.

        Each component saves its own state (see :mod:`anomaly.model.persist` and
        ``docs/artifact-format.md``); :func:`anomaly.load` reads it back.

        Returns
        -------
        pathlib.Path
        """
        if not hasattr(self, "scorer_"):
            raise ArtifactError("only a fitted model can be saved; call fit() first")
        metadata = {
            "training_window": {"start": self.train_window_[0], "end": self.train_window_[1]},
            "data_fingerprint": self.data_fingerprint_,
            "n_series": len(self.keys_),
            "currency": self.currency_,
            "no_history_codes": self.no_history_codes_,
        }
        params = {name: getattr(self, name) for name in MODEL_PARAMS}
        if not isinstance(self.controlled, str):  # a list is stored sorted, once each
            params["controlled"] = tuple(sorted(self._controlled_codes()))
        components = Components(
            params,
            self.forecaster_,
            self.keys_,
            self.scorer_.ensemble,
            self.scorer_.norms,
            metadata,
        )
        return save_components(path, components)

    @classmethod
    def load(cls, path: str | Path, *, strict: bool = False) -> TradeAnomalyModel:
        """Read a model artifact (directory or ``.zip``), verified before use.

        Parameters
        ----------
        path : str or Path
        strict : bool, default False
            Refuse an artifact written by another release series of anomaly (refit it
            to score as this release does) or with other major versions of numpy,
            pandas or scikit-learn; by default that only warns (the artifact holds no
            pickles, so its numbers mean the same). Integrity and format version are
            always checked.

        Examples
        --------
        >>> model = TradeAnomalyModel.load("models/default")  # doctest: +SKIP
        """
        components = read_components(path, strict=strict)
        ensemble = components.ensemble
        model = cls(
            components.forecaster.clone(),
            **components.params,
            detectors=[detector.clone() for detector in ensemble.detectors],
            detection=ensemble.config,
        )
        model.scorer_ = WindowScorer(
            components.forecaster,
            components.keys,
            ensemble,
            model._controlled_codes(),
            ensemble.config,
            components.norms,
        )
        metadata = components.metadata
        window = metadata["training_window"]
        model.currency_ = metadata.get("currency")
        model.train_window_ = (window["start"], window["end"])
        model.data_fingerprint_ = metadata["data_fingerprint"]
        model.no_history_codes_ = metadata.get("no_history_codes")
        return model

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
        return build_panel(checked(flows), hs_level=self.hs_level)

    def _controlled_codes(self) -> frozenset[str] | None:
        """The codes of the controlled goods (None: every good)."""
        return controlled_codes(self.controlled, self.chp_version)

    # -- display -----------------------------------------------------------------

    def _display_fields(self) -> list[tuple[str, str]]:
        """What the model is, as ``(name, value)`` pairs (its settings, if not fitted)."""
        if not hasattr(self, "scorer_"):
            return [("status", "not fitted (call fit)"), ("CHP list", self.chp_version)]
        return [
            ("training window", "..".join(self.train_window_)),
            ("series", f"{len(self.keys_):,}"),
            ("detectors", ", ".join(detector.name for detector in self.detectors_)),
            ("forecaster", type(self.forecaster_).__name__),
            ("currency", self.currency_ or "not recorded"),
        ]

    def __repr__(self) -> str:
        fields = "; ".join(f"{name}: {value}" for name, value in self._display_fields())
        return f"<TradeAnomalyModel: {fields}>"

    def _repr_html_(self) -> str:
        from anomaly.model.scores import html_card

        return html_card("TradeAnomalyModel", self._display_fields())


def describe_no_history(codes: dict[str, list[str]]) -> str:
    """``854149 (was 854140), 880730 (was 880330)``: codes without history, with
    their HS2017 predecessors.

    Examples
    --------
    >>> describe_no_history({"880730": ["880330"], "854151": ["854150"]})
    '880730 (was 880330), 854151 (was 854150)'
    """
    return ", ".join(f"{code} (was {'/'.join(before)})" for code, before in codes.items())


def raise_after_data(end: pd.Period, last: pd.Period) -> None:
    """Refuse a scoring window that ends after the data: months the data do not hold
    are unknown, not months without trade."""
    raise DataError(
        f"the scoring window ends at {end}, after the data (last month {last})",
        expected=f"an end of {last} or earlier (the default is the last month in the data)",
    )


def training_window(
    panel: Panel | pd.PeriodIndex, start: str | pd.Period | None, end: str | pd.Period
) -> tuple[pd.Period, pd.Period]:
    """The training window as months, checked against the months the data cover (those
    of ``panel``, or the months given).

    Examples
    --------
    >>> panel = Panel(pd.DataFrame({"reporter": ["DEU"], "partner": ["KGZ"],
    ...     "flow": ["export"], "hs": ["854231"]}),
    ...     pd.period_range("2020-01", "2022-06", freq="M"), np.ones((1, 30)))
    >>> training_window(panel, None, "2021-12")
    (Period('2020-01', 'M'), Period('2021-12', 'M'))
    """
    periods = panel.periods if isinstance(panel, Panel) else panel
    if len(periods) == 0:
        raise DataError("the data hold no months to train on")
    first, last = periods[0], periods[-1]
    covered = f"the data cover {first}..{last}"
    start = first if start is None else as_month(start)
    end = as_month(end)
    if start < first:
        raise DataError(
            f"the training window starts at {start}, before the data ({covered}): "
            "months the data do not cover are unknown, not months without trade",
            expected=f"a training start of {first} or later (the default is the first month)",
        )
    if end > last:
        raise DataError(
            f"the training window ends at {end}, after the data ({covered})",
            expected=f"a training end of {last} or earlier",
        )
    if end < start:
        raise DataError(f"the training window ends ({end}) before it starts ({start})")
    return start, end


def checked(flows: pd.DataFrame) -> pd.DataFrame:
    """``flows`` if :func:`anomaly.read_flows` or :func:`anomaly.validate_flows` made
    it (they record its ``sources`` in ``attrs``), else :func:`anomaly.validate_flows`
    of it: a table built by hand is checked as a file is (negative or missing values,
    repeated keys, codes stored as numbers, unknown countries) before it is summed
    into a panel, which would take any of them silently."""
    return flows if "sources" in flows.attrs else validate_flows(flows)


def load_model(path: str | Path, *, strict: bool = False) -> TradeAnomalyModel:
    """Read a model artifact (directory or ``.zip``): :meth:`TradeAnomalyModel.load`.

    Examples
    --------
    >>> import anomaly
    >>> model = anomaly.load("models/default")  # doctest: +SKIP
    """
    return TradeAnomalyModel.load(path, strict=strict)


def fingerprint(panel: Panel) -> str:
    """sha256 of the training data as the model saw it (keys, months and values)."""
    # Row blocks one after the other hash as the whole matrix's bytes, without a copy
    # of it (the panel's matrix may be a view of a larger one).
    blocks = (
        panel.values[lo : lo + FINGERPRINT_ROWS]
        for lo in range(0, panel.n_series, FINGERPRINT_ROWS)
    )
    return fingerprint_blocks(panel.keys, panel.periods, blocks)


def fingerprint_blocks(
    keys: pd.DataFrame, periods: pd.PeriodIndex, blocks: Iterable[np.ndarray]
) -> str:
    """:func:`fingerprint` of a training panel whose matrix is given as blocks of
    consecutive rows, in order (never held whole: partitions on disk, say)."""
    digest = hashlib.sha256()
    digest.update(keys.to_csv(index=False).encode())
    digest.update(",".join(str(p) for p in periods).encode())
    for block in blocks:
        digest.update(np.ascontiguousarray(block, dtype="<f8").data)
    return digest.hexdigest()


def _window_label(first: pd.Period, last: pd.Period) -> str:
    if first.month == 1 and last.month == 12 and first.year == last.year:
        return str(first.year)
    return f"{first}..{last}"
