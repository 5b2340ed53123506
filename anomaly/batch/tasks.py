"""The work of one partition in each pass, as run by a worker.

Pass 1 (:func:`partition_share`) builds the partition's panel — its rows of the
window from every scan unit, checked together (duplicates across files), pivoted by
:func:`anomaly.build_panel` at the model's HS level with one row per series of the
other months, plus the trained series of the partition that the data lacks — and
computes its share of the scoring context. The values of the months before the window
are only drawn in the top leads' charts; they are checked together when those are
(:mod:`anomaly.batch.history`). Pass 2 (:func:`partition_evidence`) scores the
partition's series with the merged context. Both leave their result in the work
directory and skip a partition whose result is already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from anomaly.batch.errors import BatchError
from anomaly.batch.models import ModelRef, cached_model, trained_partitions
from anomaly.batch.scan import (
    KEY_SCHEMA,
    ROW_SCHEMA,
    dictionary_codes,
    read_scanned,
    scanned_frame,
)
from anomaly.batch.store import (
    Share,
    load_panel,
    load_share,
    save_evidence,
    save_panel,
)
from anomaly.batch.workdir import WorkDir, publish
from anomaly.io import Source, check_flows, combine_codes
from anomaly.model import ScoringContext, TradeAnomalyModel
from anomaly.panel import Panel, build_panel, hs_revision, positions
from anomaly.schema import SERIES_KEY_COLUMNS, VALUE_COLUMN

EMPTY = "empty"


@dataclass(frozen=True)
class PassPlan:
    """What a partition task needs to know (plain data: sent to workers as is).

    Attributes
    ----------
    work : WorkDir
    files : tuple of str
        The input files, for error messages.
    n_partitions : int
    first, last : int
        The scoring window's first and last month (ordinals).
    history : int
        Months before the window kept for the top leads' charts.
    """

    work: WorkDir
    files: tuple[str, ...]
    n_partitions: int
    first: int
    last: int
    history: int

    @property
    def periods(self) -> pd.PeriodIndex:
        """The months of a partition's panel: the window and the month after it."""
        return pd.PeriodIndex.from_ordinals(np.arange(self.first, self.last + 2), freq="M")


def partition_share(
    plan: PassPlan, model: ModelRef | TradeAnomalyModel, partition: int
) -> Share | None:
    """Pass 1 of ``partition``: its panel (kept on disk) and its share of the context.

    Returns None for a partition without any series.
    """
    folder = plan.work.panel_dir(partition)
    if not folder.exists():
        _check_visible(plan.work)
        publish(folder, lambda staging: _build(plan, model, partition, staging))
    if (folder / EMPTY).exists():
        return None
    return load_share(folder)


def partition_evidence(
    plan: PassPlan, model: ModelRef | TradeAnomalyModel, context: ScoringContext, partition: int
) -> int:
    """Pass 2 of ``partition``: score its series with the merged ``context``.

    Returns the number of series scored.
    """
    folder = plan.work.evidence_dir(partition)
    if not folder.exists():
        panel, appended = load_panel(plan.work.panel_dir(partition), plan.periods)
        first, last = plan.periods[0], plan.periods[-2]
        evidence = cached_model(model).evidence(panel, first, last, context)
        rows = positions(panel.keys, evidence.summary)
        n_data = panel.n_series - len(appended)
        trained = np.full(len(rows), -1, dtype=np.int64)
        added = rows >= n_data
        trained[added] = appended[rows[added] - n_data]
        publish(folder, lambda staging: save_evidence(staging, evidence, trained))
    return len(np.load(folder / "trained.npy", mmap_mode="r"))


def _build(
    plan: PassPlan, model: ModelRef | TradeAnomalyModel, partition: int, folder: Path
) -> None:
    fitted = cached_model(model)
    trained = fitted.keys_[trained_partitions(model, plan.n_partitions) == partition]
    scanned = read_scanned(plan.work.rows_files(partition), ROW_SCHEMA)
    # Only the window's values are scored: the months before it count for which
    # series exist and which reporters published (their values are read again for
    # the top leads' charts only, see anomaly.batch.history).
    in_window = pc.greater_equal(scanned["period"], plan.first)
    rows = scanned_frame(scanned.filter(in_window))
    before = scanned.filter(pc.invert(in_window))
    keys = _stacked(
        [
            scanned_frame(read_scanned(plan.work.keys_files(partition), KEY_SCHEMA)),
            _series_keys(before),
        ]
    )
    if rows.empty and keys.empty and trained.empty:
        (folder / EMPTY).touch()
        return
    if not rows.empty:
        sources = [Source(name) for name in plan.files]
        rows, _ = check_flows(rows, sources, categorical=True)
    history = _published_before(before, plan, fitted.hs_level)
    flows = _stacked([rows, keys.assign(**{VALUE_COLUMN: np.nan})])
    periods = plan.periods
    if flows.empty:
        blank = pd.DataFrame({name: pd.Series(dtype=object) for name in SERIES_KEY_COLUMNS})
        panel = Panel(blank, periods, np.empty((0, len(periods))))
    else:
        # Every series, as the panel of the data's whole range (in memory) has them:
        # the keys-only rows lie outside the window.
        panel = build_panel(
            flows, hs_level=fitted.hs_level, start=periods[0], end=periods[-1], all_series=True
        )
    n_data = panel.n_series
    panel = fitted.with_trained_series(panel, keys=trained)
    appended = trained.index.to_numpy()[positions(trained, panel.keys.iloc[n_data:])]
    context = fitted.context(panel, periods[0], periods[-2])
    save_panel(folder, panel, appended.astype(np.int64), Share(context, history))


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Rows of ``frames`` one after the other, key columns as categoricals of their
    sorted union (a panel orders categorical keys by their categories: here the text
    order, as in memory; and no string is made per row)."""
    frames = [frame for frame in frames if len(frame)] or frames[:1]
    columns = {}
    for name in frames[0].columns:
        parts = [
            frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
            for frame in frames
        ]
        if name in SERIES_KEY_COLUMNS:
            columns[name] = union_categoricals(
                [part.astype("category") for part in parts], sort_categories=True
            )
        else:
            columns[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def _series_keys(rows: pa.Table) -> pd.DataFrame:
    """One row (key and month) per series key and HS revision of ``rows``.

    A panel files a code under its HS2022 successor by the revision in force in the
    row's year, so these rows give a panel every series that all of ``rows`` would.
    """
    if rows.num_rows == 0:
        return scanned_frame(KEY_SCHEMA.empty_table())
    period = rows["period"].to_numpy()
    years = period // 12 + 1970
    revision = hs_revision(years).astype(np.int64)
    codes = [dictionary_codes(rows, name)[0] for name in SERIES_KEY_COLUMNS]
    # First occurrences in row order, by hashing (a sort of every row cost ten times more).
    repeated = pd.Series(combine_codes([*codes, revision])).duplicated().to_numpy()
    first = np.flatnonzero(~repeated)
    return scanned_frame(rows.select(KEY_SCHEMA.names).take(pa.array(first)))


def _published_before(rows: pa.Table, plan: PassPlan, hs_level: int) -> pd.DataFrame:
    """``reporter, period`` of the months before the window in which reporters published.

    A month counts where a row survives into a panel at ``hs_level``, as in memory.
    """
    if rows.num_rows == 0:
        return pd.DataFrame(
            {"reporter": pd.Series(dtype=object), "period": pd.Series(dtype=np.int64)}
        )
    ordinal = rows["period"].to_numpy().astype(np.int64)
    hs, hs_codes = dictionary_codes(rows, "hs")
    fine = pc.utf8_length(pa.array(hs_codes, type=pa.string())).to_numpy()[hs] >= hs_level
    reporter, reporters = dictionary_codes(rows, "reporter")
    chosen = fine & (ordinal >= plan.first - plan.history)
    first, span = ordinal.min(), int(ordinal.max() - ordinal.min()) + 1
    published = np.zeros(len(reporters) * span, dtype=bool)
    published[reporter[chosen] * span + (ordinal[chosen] - first)] = True
    code, month = np.divmod(np.flatnonzero(published), span)
    return pd.DataFrame({"reporter": reporters[code].astype(object), "period": month + first})


def _check_visible(work: WorkDir) -> None:
    if not (work.path / "scan").is_dir():
        raise BatchError(
            f"this worker cannot see the work directory {work.root}: on a cluster, "
            "give a --work-dir on storage that every worker shares"
        )
