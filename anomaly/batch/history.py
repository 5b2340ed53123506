"""The months before the window of the top leads, for their charts.

An in-memory run puts the last :data:`~anomaly.model.scores.HISTORY_MONTHS` of the
top :data:`~anomaly.model.scores.HISTORY_LEADS` leads at the end of
``scores.parquet``. Here they are read back from the scan's rows of those leads'
partitions (only the leads' country pairs, only those months) and pivoted the same
way; whether each reporter published in each month comes from every partition's
share of the context.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa

from anomaly.batch.partition import pair_partitions
from anomaly.batch.scan import ROW_SCHEMA, scanned_batches
from anomaly.batch.tasks import PassPlan
from anomaly.io import Source, check_flows
from anomaly.panel import Panel, build_panel, positions
from anomaly.schema import SERIES_KEY_COLUMNS


def history_frame(
    top: pd.DataFrame, plan: PassPlan, published: pd.DataFrame, hs_level: int
) -> pd.DataFrame:
    """Rows ``period, reporter, partner, flow, hs, actual, expected, lower, upper, z,
    in_window`` (forecast columns empty, ``in_window`` False) of the ``top`` leads.

    ``published`` holds the ``reporter, period`` (ordinal) pairs in which a reporter
    published anything before the window.
    """
    if top.empty:
        return pd.DataFrame()
    keys = top[list(SERIES_KEY_COLUMNS)].reset_index(drop=True)
    months = pd.PeriodIndex.from_ordinals(
        np.arange(plan.first - plan.history, plan.first), freq="M"
    )
    values = np.full((len(keys), len(months)), np.nan)
    part = pair_partitions(keys["reporter"], keys["partner"], plan.n_partitions)
    groups = [np.flatnonzero(part == partition) for partition in np.unique(part)]

    def panel_of(chosen: np.ndarray) -> Panel | None:
        return _panel(plan, int(part[chosen[0]]), keys.iloc[chosen], months, hs_level)

    # Reading the partitions' rows (decompression) is Arrow's work: threads share it.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for chosen, panel in zip(groups, pool.map(panel_of, groups), strict=True):
            if panel is None:
                continue
            rows = positions(panel.keys, keys.iloc[chosen])
            found = rows >= 0
            values[chosen[found]] = panel.values[rows[found]]
    reported = set(zip(published["reporter"], published["period"], strict=True))
    mask = np.array(
        [[(reporter, month) in reported for month in months.asi8] for reporter in keys["reporter"]],
        dtype=bool,
    ).reshape(len(keys), len(months))
    actual = np.where(mask, np.nan_to_num(values), np.nan)
    n_months = len(months)
    frame = pd.DataFrame(
        {"period": np.tile(months.astype(str), len(keys))}
        | {c: np.repeat(keys[c].to_numpy(), n_months) for c in SERIES_KEY_COLUMNS}
        | {"actual": actual.ravel()}
    )
    for name in ("expected", "lower", "upper", "z"):
        frame[name] = np.nan
    frame["in_window"] = False
    return frame


def _route_rows(
    batch: pa.RecordBatch, pairs: set[tuple[str, str]], months: pd.PeriodIndex
) -> pa.RecordBatch:
    """The rows of ``batch`` on the routes ``pairs`` (reporter, partner) in ``months``."""
    period = batch.column("period").to_numpy()
    in_months = (period >= months.asi8[0]) & (period <= months.asi8[-1])
    reporter, partner = batch.column("reporter"), batch.column("partner")
    code_of = [
        {value: code for code, value in enumerate(column.dictionary.to_pylist())}
        for column in (reporter, partner)
    ]
    n_partners = len(partner.dictionary)
    wanted = [
        code_of[0][a] * n_partners + code_of[1][b]
        for a, b in pairs
        if a in code_of[0] and b in code_of[1]
    ]
    route = reporter.indices.to_numpy().astype(np.int64) * n_partners
    route += partner.indices.to_numpy()
    return batch.filter(pa.array(in_months & np.isin(route, wanted)))


def _panel(
    plan: PassPlan, partition: int, keys: pd.DataFrame, months: pd.PeriodIndex, hs_level: int
) -> Panel | None:
    """The panel of the months before the window of the pairs of ``keys``."""
    files = plan.work.rows_files(partition)
    if not files:
        return None
    wanted = set(zip(keys["reporter"], keys["partner"], strict=True))
    chosen = [
        _route_rows(batch, wanted, months) for path in files for batch in scanned_batches(path)
    ]
    frame = pa.Table.from_batches(chosen, ROW_SCHEMA).to_pandas()
    if frame.empty:
        return None
    frame["period"] = pd.PeriodIndex.from_ordinals(frame["period"].to_numpy(np.int64), freq="M")
    # Sorted as in memory, so that codes summed into one series sum in the same order.
    table, _ = check_flows(frame, [Source(name) for name in plan.files])
    return build_panel(table, hs_level=hs_level, start=months[0], end=months[-1])
