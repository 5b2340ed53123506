"""``fit_partitioned``: a model trained over the partitions of its training panel.

The fit of :meth:`TradeAnomalyModel.fit <anomaly.TradeAnomalyModel.fit>`, with the
same two-pass shape as batch scoring: what spans partitions is gathered first as
small tables, then each partition's series are worked on by the engine's workers,
each reading its own matrix from the work directory
(:func:`~anomaly.batch.panel_reader.read_panel` with ``stacked=False``). The driver
holds the keys, per-series arrays and pooled tables, never the series × months
matrix. Steps, each logged with its peak memory as the in-memory fit logs its own:

1. *coverage*: per partition, which series report in the training window, how many
   series each reporter declared of each direction in each month, and the reporters'
   publication counts (their usual months,
   :func:`~anomaly.model.context.publication_norms`);
2. *detectors' training statistics*: per partition, given who published when over
   all partitions, the mirror sums and baseline draws
   (:class:`~anomaly.detect.training.TrainingStatistics`) of the months before the
   placebo window and of the whole window;
3. *forecaster before the placebo window*: its passes per partition
   (:class:`~anomaly.batch.train_rows.PartitionRows`), its calibration on the fixed
   sample of series gathered from the partitions;
4. *placebo window*: per partition, its share of the scoring context, then, with the
   merged context, its evidence (the placebo scorer restricted to the partition's
   series: the forecaster's per-series state, the mirror ratios of its pairs, the
   pooled tables — plain arrays, never a pickled model);
5. the detectors calibrated on the gathered evidence (in the panel's row order), the
   forecaster fitted on the whole window, the data's fingerprint streamed from the
   partitions in row order.

The model equals the in-memory fit's (the same keys in the same order, the same
detectors' training statistics to the bit) except for sums over series, added
partition by partition rather than in one pass: the months' common deviations of the
forecaster, the reporters' summed values and the placebo context's sums. They differ in
the last bits, and so do the numbers that follow from them: by at most 1e-10 plus 1e-12
of the number (:data:`TOLERANCE`; ``tests/batch/test_train_partitions.py``; measured
at 10^5 series: 1.4e-14 on the forecaster's numbers, 4e-9 on reporters' monthly values
of 3e7). Results do not depend on
the number of workers: partitions are always added in the same order.

Only the default forecaster and detectors are trained this way: they are known to
read the training panel only through the pieces above.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import reduce

import numpy as np
import pandas as pd

from anomaly.batch.engines import DaskEngine, LocalEngine, map_in_order
from anomaly.batch.errors import BatchError
from anomaly.batch.panel_reader import PanelParts
from anomaly.batch.train_rows import PartitionRows, PartitionSlice
from anomaly.detect import DetectionConfig, Ensemble, PlaceboEvidence, detector_class
from anomaly.detect.baseline import PlaceboTails
from anomaly.detect.mirror import MirrorRatios
from anomaly.detect.training import (
    TrainingShare,
    TrainingStatistics,
    partitioned_detectors,
    training_share,
)
from anomaly.errors import DataError
from anomaly.forecast import PooledForecaster
from anomaly.forecast.pooled import series_state
from anomaly.forecast.publication import published_directions, unpublished_months
from anomaly.model import ScoringContext, TradeAnomalyModel
from anomaly.model.context import merge_counts, norms_from_counts, publication_counts
from anomaly.model.evidence import WindowScorer
from anomaly.model.trade_model import FINGERPRINT_ROWS, fingerprint_blocks, training_window
from anomaly.panel import Panel, merge_declared, positions
from anomaly.panel.core import flow_directions
from anomaly.progress import logged_step

logger = logging.getLogger(__name__)

#: How far a fitted number of :func:`fit_partitioned` may lie from the in-memory fit's,
#: ``|a - b| <= atol + rtol * |b|`` (keyword arguments of
#: :func:`numpy.testing.assert_allclose`). ``atol`` is the tolerance of chunks of one
#: matrix (``tests/forecast/test_forecast_pooled.py``); ``rtol`` covers sums of values.
TOLERANCE = {"rtol": 1e-12, "atol": 1e-10}


def fit_partitioned(
    model: TradeAnomalyModel,
    parts: PanelParts,
    train_start: str | pd.Period | None,
    train_end: str | pd.Period,
    runner: LocalEngine | DaskEngine,
) -> TradeAnomalyModel:
    """Fit ``model`` on the panel of ``parts`` without holding its matrix.

    The same model as ``model.fit(panel, train_start, train_end)`` on the stacked
    panel, within :data:`TOLERANCE` (see the module docstring).

    Parameters
    ----------
    model : TradeAnomalyModel
        Unfitted; with the default forecaster and detectors.
    parts : PanelParts
        The training read's partitions (:func:`~anomaly.batch.panel_reader.read_panel`
        with ``stacked=False``).
    train_start, train_end : str or pandas.Period
        The training window, as for :meth:`TradeAnomalyModel.fit`.
    runner : LocalEngine or DaskEngine
        Runs the partitions' tasks; its workers must see the partitions' files.

    Returns
    -------
    TradeAnomalyModel
        ``model``, fitted.

    Raises
    ------
    BatchError
        Another forecaster, or a detector written elsewhere.
    DataError
        A training window outside the data, too short, or without flows.

    Examples
    --------
    >>> with LocalEngine(2) as runner:  # doctest: +SKIP
    ...     fit_partitioned(TradeAnomalyModel(), parts, "2015-01", "2021-12", runner)
    """
    check_partitionable(model)
    base, ensemble, controlled = model.unfitted_parts()
    config = ensemble.config
    start, end = training_window(parts.periods, train_start, train_end)
    logger.info(
        "training window %s..%s (months read: %s..%s), over %d partitions",
        start,
        end,
        parts.periods[0],
        parts.periods[-1],
        len(parts.keys),
    )
    periods = pd.period_range(start, end, freq="M")
    lo = start.ordinal - parts.periods[0].ordinal
    columns = (lo, lo + len(periods))
    every = [
        PartitionSlice(str(path), np.arange(len(keys)), columns)
        for keys, path in zip(parts.keys, parts.values, strict=True)
    ]
    placebo_start = model.placebo_start(start, end)
    n_before = placebo_start.ordinal - start.ordinal
    plan = _Plan(periods, config)
    with logged_step("training: coverage of the partitions"):
        items = list(zip(every, parts.keys, strict=True))
        found = map_in_order(runner, _coverage, items, "coverage", plan, n_before)
        layout = _Layout.of(parts, [f.reported for f in found])
    if layout.n_series == 0:
        raise DataError(f"no flows reported in the training window {start}..{end}")
    train_keys = layout.train_keys
    declared = merge_declared([f.declared for f in found])
    published = published_directions(declared)
    publisher = declared.index.get_indexer(
        pd.MultiIndex.from_arrays(
            [train_keys["reporter"].to_numpy(), flow_directions(train_keys["flow"])]
        )
    )
    reporter = pd.factorize(declared.index.get_level_values(0))[0]
    slices = [
        PartitionSlice(part.values, rows, columns)
        for part, rows in zip(every, layout.local_rows, strict=True)
    ]
    items = [(part, keys) for part, keys in zip(slices, layout.part_keys, strict=True)]

    with logged_step("training: detectors' statistics of the partitions"):
        shares = map_in_order(
            runner, _training_shares, items, "detectors' statistics", plan, n_before, published
        )
        learned = TrainingStatistics.gather([s[0] for s in shares], layout.positions, config)
        trained = TrainingStatistics.gather([s[1] for s in shares], layout.positions, config)
        del shares

    with logged_step("training: forecaster fit before the placebo window"):
        before = [PartitionSlice(s.values, s.rows, (lo, lo + n_before)) for s in slices]
        forecaster = base.clone().fit_rows(
            PartitionRows(runner, before, layout.positions),
            train_keys,
            periods[:n_before],
            unpublished_months(declared.to_numpy()[:, :n_before], publisher, reporter),
        )
        inner = _PlaceboScorer(
            base.get_params(),
            forecaster.fitted_state(),
            forecaster.series_info_,
            str(placebo_start - 1),
            tuple((d.name, d.get_params()) for d in ensemble.detectors),
            learned.tails,
            controlled,
            config,
            ensemble.false_alarm_rate,
            norms_from_counts(*merge_counts([f.before for f in found])),
        )
        del forecaster
    with logged_step("training: placebo window scored"):
        scorers = [
            inner.of(rows, keys, _pairs_of(learned.ratios, keys))
            for rows, keys in zip(layout.positions, layout.part_keys, strict=True)
        ]
        scored = list(zip(slices, layout.part_keys, scorers, strict=True))
        summary, z = _placebo(runner, plan, scored, layout.positions, placebo_start, end)
        del inner, scorers, scored
    with logged_step("training: detectors calibrated on the placebo window"):
        ensemble.fit(trained, PlaceboEvidence(summary, z))
        del summary, z

    with logged_step("training: forecaster fit on the training window"):
        forecaster = base.clone().fit_rows(
            PartitionRows(runner, slices, layout.positions),
            train_keys,
            periods,
            unpublished_months(declared.to_numpy(), publisher, reporter),
        )
        norms = norms_from_counts(*merge_counts([f.train for f in found]))
        scorer = WindowScorer(forecaster, train_keys, ensemble, controlled, config, norms)
    with logged_step("training: fingerprint of the data"):
        data_fingerprint = fingerprint_blocks(
            train_keys, periods, _blocks_in_order(slices, layout.positions)
        )
    return model.set_fitted(
        scorer,
        currency=parts.currency,
        train_window=(start, end),
        data_fingerprint=data_fingerprint,
        keys=layout.panel_keys,
    )


def check_partitionable(model: TradeAnomalyModel) -> None:
    """Refuse a model that :func:`fit_partitioned` cannot train as :meth:`fit` does:
    one with another forecaster than the default, or a detector written elsewhere.

    Raises
    ------
    BatchError
    """
    base, ensemble, _ = model.unfitted_parts()
    in_memory = "; fit it in memory (without --jobs, --engine, --scheduler and --work-dir)"
    if type(base) is not PooledForecaster:
        raise BatchError(
            f"the {type(base).__name__} cannot be trained over partitions, only the "
            f"default forecaster (--forecaster pooled){in_memory}"
        )
    others = partitioned_detectors(ensemble.detectors)
    if others:
        raise BatchError(
            f"the detectors {', '.join(others)} cannot be trained over partitions, only "
            f"the default detectors{in_memory}"
        )


@dataclass(frozen=True)
class _Plan:
    """What every partition task knows of the fit (plain data)."""

    periods: pd.PeriodIndex
    config: DetectionConfig


@dataclass(frozen=True)
class _Coverage:
    """One partition's coverage: which of its series report in the window, how many
    series each reporter declared of each direction in each month, and the publication
    counts of the months before the placebo window and of the whole window."""

    reported: np.ndarray
    declared: pd.DataFrame
    before: tuple[pd.DataFrame, pd.DataFrame]
    train: tuple[pd.DataFrame, pd.DataFrame]


def _coverage(plan: _Plan, n_before: int, item: tuple[PartitionSlice, pd.DataFrame]) -> _Coverage:
    part, keys = item
    values = part.read()
    reported = ~np.isnan(values).all(axis=1)
    train = Panel(keys, plan.periods, values).select(reported)
    return _Coverage(
        reported,
        train.publishers_declared(),
        publication_counts(train.keys, train.values[:, :n_before]),
        publication_counts(train.keys, train.values),
    )


@dataclass(frozen=True)
class _Layout:
    """Where each partition's training series are in the training panel.

    Attributes
    ----------
    panel_keys : pandas.DataFrame
        Every series of the input, in the panel's order.
    train_keys : pandas.DataFrame
        The series that report in the training window, in the panel's order.
    local_rows : list of numpy.ndarray
        Per partition, the rows of its matrix that are training series.
    positions : list of numpy.ndarray
        Per partition, the training panel's row of each of those.
    part_keys : list of pandas.DataFrame
        Per partition, their keys (as :attr:`train_keys` holds them).
    """

    panel_keys: pd.DataFrame
    train_keys: pd.DataFrame
    local_rows: list[np.ndarray]
    positions: list[np.ndarray]
    part_keys: list[pd.DataFrame]

    @property
    def n_series(self) -> int:
        return len(self.train_keys)

    @classmethod
    def of(cls, parts: PanelParts, reported: list[np.ndarray]) -> _Layout:
        row = parts.order()
        keys = pd.concat(parts.keys, ignore_index=True)
        order = np.empty_like(row)
        order[row] = np.arange(len(row))
        panel_keys = keys.take(order).reset_index(drop=True)
        in_panel = np.zeros(len(row), dtype=bool)
        in_panel[row] = np.concatenate(reported)
        train_row = np.cumsum(in_panel) - 1
        train_keys = panel_keys[in_panel].reset_index(drop=True)
        offsets = np.cumsum([0, *(len(k) for k in parts.keys)])
        local_rows, positions, part_keys = [], [], []
        for index, flags in enumerate(reported):
            local = np.flatnonzero(flags)
            at = train_row[row[offsets[index] + local]]
            local_rows.append(local)
            positions.append(at)
            part_keys.append(train_keys.iloc[at].reset_index(drop=True))
        return cls(panel_keys, train_keys, local_rows, positions, part_keys)


def _training_shares(
    plan: _Plan,
    n_before: int,
    published: pd.DataFrame,
    item: tuple[PartitionSlice, pd.DataFrame],
) -> tuple[TrainingShare, TrainingShare]:
    part, keys = item
    train = Panel(keys, plan.periods, part.read())
    before = train.window(plan.periods[0], plan.periods[n_before - 1])
    return (
        training_share(before, published.iloc[:, :n_before], plan.config),
        training_share(train, published, plan.config),
    )


def _pairs_of(ratios: MirrorRatios, keys: pd.DataFrame) -> MirrorRatios:
    """The ratios of the series of ``keys``' country pairs (a partition holds every
    series of its pairs: their readings are the whole set's)."""
    pairs = pd.MultiIndex.from_frame(keys[["reporter", "partner"]]).unique()
    mine = pd.MultiIndex.from_frame(ratios.keys[["reporter", "partner"]]).isin(pairs)
    return ratios.take(np.flatnonzero(mine))


@dataclass(frozen=True)
class _PlaceboScorer:
    """The placebo window's scorer as plain data: the forecaster's parameters and
    state, the detectors by name, what they learned, and the scoring settings."""

    params: dict
    state: dict[str, np.ndarray]
    series_info: pd.DataFrame
    train_end: str
    detectors: tuple[tuple[str, dict], ...]
    tails: PlaceboTails
    controlled: frozenset[str] | None
    config: DetectionConfig
    false_alarm_rate: float
    norms: pd.DataFrame
    keys: pd.DataFrame | None = None
    ratios: MirrorRatios | None = None

    def of(self, rows: np.ndarray, keys: pd.DataFrame, ratios: MirrorRatios) -> _PlaceboScorer:
        """This scorer restricted to the training series at ``rows`` (of ``keys``),
        with their pairs' mirror ratios."""
        return _PlaceboScorer(
            self.params,
            series_state(self.state, rows),
            self.series_info.iloc[rows].reset_index(drop=True),
            self.train_end,
            self.detectors,
            self.tails,
            self.controlled,
            self.config,
            self.false_alarm_rate,
            self.norms,
            keys,
            ratios,
        )

    def scorer(self) -> WindowScorer:
        forecaster = PooledForecaster(**self.params).restore(
            dict(self.state), self.series_info, self.train_end
        )
        statistics = TrainingStatistics(self.ratios, self.tails)
        detectors = [detector_class(name)(self.config, **params) for name, params in self.detectors]
        ensemble = Ensemble(detectors, self.config, self.false_alarm_rate).learned(statistics)
        return WindowScorer(
            forecaster, self.keys, ensemble, self.controlled, self.config, self.norms
        )


def _placebo_context(
    plan: _Plan,
    start: pd.Period,
    end: pd.Period,
    item: tuple[PartitionSlice, pd.DataFrame, _PlaceboScorer],
) -> ScoringContext:
    part, keys, inner = item
    return inner.scorer().context(Panel(keys, plan.periods, part.read()), start, end)


def _placebo_evidence(
    plan: _Plan,
    start: pd.Period,
    end: pd.Period,
    context: ScoringContext,
    item: tuple[PartitionSlice, pd.DataFrame, _PlaceboScorer],
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    part, keys, inner = item
    panel = Panel(keys, plan.periods, part.read())
    evidence = inner.scorer().evidence(panel, start, end, context)
    return evidence.summary, evidence.monthly["z"], positions(keys, evidence.summary)


def _placebo(
    runner: LocalEngine | DaskEngine,
    plan: _Plan,
    scored: list[tuple[PartitionSlice, pd.DataFrame, _PlaceboScorer]],
    rows: list[np.ndarray],
    start: pd.Period,
    end: pd.Period,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The placebo window's summary and monthly z, in the panel's order: each
    partition's share of the context, merged, then each partition's evidence."""
    contexts = map_in_order(runner, _placebo_context, scored, "placebo context", plan, start, end)
    context = reduce(ScoringContext.merge, contexts)
    del contexts
    found = map_in_order(
        runner, _placebo_evidence, scored, "placebo evidence", plan, start, end, context
    )
    return _in_panel_order(found, rows)


def _in_panel_order(
    parts: list[tuple[pd.DataFrame, np.ndarray, np.ndarray]], rows: list[np.ndarray]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The partitions' placebo summaries and monthly z as one, in the panel's order."""
    found = np.concatenate([at[part[2]] for part, at in zip(parts, rows, strict=True)])
    order = np.argsort(found)
    summary = pd.concat([part[0] for part in parts], ignore_index=True)
    summary = summary.take(order).reset_index(drop=True)
    z = np.vstack([part[1] for part in parts])[order]
    return summary, z


def _blocks_in_order(slices: list[PartitionSlice], rows: list[np.ndarray]):
    """The training matrix in blocks of :data:`FINGERPRINT_ROWS` consecutive rows,
    each gathered from the partitions' files (``NaN`` as is).

    Each file is mapped for one block at a time: pages of a mapped file count in the
    process's resident memory until it is unmapped.
    """
    n_series = sum(len(at) for at in rows)
    for lo in range(0, n_series, FINGERPRINT_ROWS):
        hi = min(lo + FINGERPRINT_ROWS, n_series)
        block = np.empty((hi - lo, slices[0].columns[1] - slices[0].columns[0]))
        for part, at in zip(slices, rows, strict=True):
            inside = (at >= lo) & (at < hi)
            if inside.any():
                block[at[inside] - lo] = part.read(np.flatnonzero(inside))
        yield block
