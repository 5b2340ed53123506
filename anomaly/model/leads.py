"""From the per-series summary to ranked, explained leads.

The ensemble (:class:`~anomaly.detect.Ensemble`) turns the summary into calibrated
statistics, p-values and signals; this module only ranks the series by the combined
score, marks the alerts and explains each lead in a line.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from anomaly.detect import Ensemble, combined_scores
from anomaly.model.explain import (
    EXPLAINED_COLUMNS,
    OPTIONAL_COLUMNS,
    OPTIONAL_TEXT,
    explanations,
    good_names,
)
from anomaly.reference import GOODS_COLUMNS, describe_goods
from anomaly.schema import LEAD_COLUMNS, MIRROR_FLOW

#: The explanations are written in this many parts of the rows at once, in threads
#: beside the sorting of the table (Arrow's kernels release the GIL).
EXPLAIN_PARTS = 2


def build_leads(
    summary: pd.DataFrame,
    ensemble: Ensemble,
    *,
    currency: str | None,
    window_label: str,
    train_window_label: str | None = None,
    chp_version: str | None = None,
    ranked: Callable[[pd.DataFrame, np.ndarray], object] | None = None,
) -> pd.DataFrame:
    """The leads table: one row per series, best first, with signals and explanations.

    ``train_window_label`` names the training window in new flows' explanations
    ("€1.2M in 2022, none in 2020-01..2021-12"). With ``chp_version`` each lead's good
    is described (:data:`~anomaly.reference.GOODS_COLUMNS`, on that CHP list) and named
    in its explanation (:func:`~anomaly.model.explain.good_names`). ``ranked(table,
    order)`` is called as soon as the series are ranked, before they are explained:
    ``table.iloc[order]`` are the series best first (``table`` gains columns after
    the call), so that a caller can start on the top leads.
    """
    leads = ensemble.statistics(summary)
    pvalues = ensemble.log_pvalues(leads)
    leads["score"] = combined_scores(pvalues)
    for name, log_p in pvalues.items():
        leads[name] = np.exp(log_p.to_numpy())
    leads["alert"] = (leads["score"] >= ensemble.threshold_) & leads["in_scope"]
    order = _order(leads)
    if ranked is not None:
        ranked(leads, order)
    flags = ensemble.signal_flags(leads)
    leads["signals"] = signal_names(flags)
    # Explained in other threads while the table is sorted here; they have their own
    # copy of what they read.
    optional = [name for name in (*OPTIONAL_COLUMNS, *OPTIONAL_TEXT) if name in leads]
    explained = leads[[*EXPLAINED_COLUMNS, *optional]].copy()
    if chp_version is not None:
        goods = describe_goods(leads["hs"], chp_version)
        leads[list(GOODS_COLUMNS)] = goods.to_numpy()
        explained["good"] = good_names(leads["hs"], chp_version)
    with ThreadPoolExecutor(max_workers=EXPLAIN_PARTS) as pool:
        texts = [
            pool.submit(
                explanations,
                explained.iloc[rows],
                {name: np.asarray(flag)[rows] for name, flag in flags.items()},
                currency=currency,
                window=window_label,
                train_window=train_window_label,
            )
            for rows in _parts(len(explained), EXPLAIN_PARTS)
        ]
        leads = _sorted(leads, order)
        text = np.concatenate([part.result() for part in texts])
        leads.insert(LEAD_COLUMNS.index("explanation"), "explanation", text[order])
    leads["same_flow_rank"] = same_flow_ranks(leads)
    leads["explanation"] = _with_same_flow(leads)
    return leads


def _parts(n_rows: int, n_parts: int) -> list[slice]:
    """``n_parts`` consecutive slices of ``n_rows`` rows (fewer if rows are fewer; one,
    empty, for none).

    Examples
    --------
    >>> _parts(5, 2), _parts(1, 2), _parts(0, 2)
    ([slice(0, 3, None), slice(3, 5, None)], [slice(0, 1, None)], [slice(0, 0, None)])
    """
    size = max(1, -(-n_rows // n_parts))
    starts = range(0, n_rows, size)
    return [slice(start, min(start + size, n_rows)) for start in starts] or [slice(0, 0)]


def same_flow_ranks(leads: pd.DataFrame) -> np.ndarray:
    """Per lead, the rank of the other declaration of the same flow: for ``A → B``
    (declared by A), B's ``B ← A`` of the same goods, and the reverse; ``NaN`` where
    it is not among the leads.

    Both declarations of one shipment can rank high (a surge both sides saw): an
    analyst reads them as one lead.

    Examples
    --------
    >>> leads = pd.DataFrame({"rank": [1, 2, 3], "reporter": ["CHE", "KAZ", "ARM"],
    ...     "partner": ["ARM", "DEU", "CHE"], "flow": ["export", "import", "import"],
    ...     "hs": ["853690"] * 3})
    >>> same_flow_ranks(leads).tolist()
    [3.0, nan, 1.0]
    """
    n = len(leads)
    # One integer per key (countries coded jointly, so a reporter and a partner with the
    # same name get the same code): a million leads are matched in a fraction of a second.
    countries = np.concatenate(
        [leads["reporter"].to_numpy(dtype=object), leads["partner"].to_numpy(dtype=object)]
    )
    country, names = pd.factorize(countries)
    flows = list(MIRROR_FLOW)
    flow = pd.Categorical(leads["flow"].to_numpy(dtype=object), categories=flows).codes
    mirror = pd.Categorical(
        leads["flow"].map(MIRROR_FLOW).to_numpy(dtype=object), categories=flows
    ).codes
    hs, codes = pd.factorize(leads["hs"].to_numpy(dtype=object))
    reporter, partner = country[:n].astype(np.int64), country[n:].astype(np.int64)

    def key(first: np.ndarray, second: np.ndarray, flow: np.ndarray) -> np.ndarray:
        pair = first * len(names) + second
        return (pair * (len(flows) + 1) + flow + 1) * len(codes) + hs

    found = pd.Index(key(reporter, partner, flow)).get_indexer(key(partner, reporter, mirror))
    ranks = leads["rank"].to_numpy(dtype=np.float64)
    return np.where(found >= 0, ranks[np.maximum(found, 0)], np.nan)


def _with_same_flow(leads: pd.DataFrame) -> pd.Series:
    """Explanations of alerts whose flow the other side declared too, naming its lead
    (the column keeps its type: only those rows are rewritten)."""
    text = leads["explanation"]
    other = leads["same_flow_rank"].to_numpy()
    named = np.flatnonzero(leads["alert"].to_numpy(dtype=bool) & np.isfinite(other))
    if not len(named):
        return text
    partners = leads["partner"].to_numpy()[named]
    lines = text.iloc[named].tolist()
    text = text.copy()
    text.iloc[named] = [
        f"{line}; {partner}'s declaration of this flow: lead #{int(rank)}"
        for line, partner, rank in zip(lines, partners, other[named], strict=True)
    ]
    return text


def _order(leads: pd.DataFrame) -> np.ndarray:
    """Positions of the leads best first: in scope, then score, then excess value."""
    return np.lexsort(
        (
            -leads["excess_value"].to_numpy(dtype=float),
            -leads["score"].to_numpy(dtype=float),
            ~leads["in_scope"].to_numpy(dtype=bool),
        )
    )


def _sorted(leads: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """Leads in ``order``, ranked, in the table's column order (``explanation`` left
    out)."""
    added = ("rank", "explanation")
    columns = [c for c in LEAD_COLUMNS if c not in added]
    columns += [c for c in leads.columns if c not in LEAD_COLUMNS]
    # One take of every column, already in the table's column order (no further copy).
    where = leads.columns.get_indexer(columns)
    if (where < 0).any():
        missing = [c for c, i in zip(columns, where, strict=True) if i < 0]
        raise KeyError(f"the statistics lack the lead columns {missing}")
    leads = leads.iloc[order, where]
    leads.index = pd.RangeIndex(len(leads))
    leads.insert(LEAD_COLUMNS.index("rank"), "rank", np.arange(1, len(leads) + 1))
    return leads


def signal_names(flags: dict[str, np.ndarray]) -> np.ndarray:
    """``;``-separated names of the signals that fired on each series, in the order of
    ``flags``.

    Each series' set of signals is coded as a bit mask, and the text of every mask is
    written once.

    Examples
    --------
    >>> signal_names({"surge": np.array([True, False]), "isolation": np.array([True, False])})
    array(['surge;isolation', ''], dtype=object)
    """
    names = list(flags)
    mask = np.zeros(len(next(iter(flags.values()), [])), dtype=np.int64)
    for bit, name in enumerate(names):
        mask |= np.asarray(flags[name], dtype=np.int64) << bit
    texts = np.array(
        [
            ";".join(n for bit, n in enumerate(names) if code >> bit & 1)
            for code in range(1 << len(names))
        ],
        dtype=object,
    )
    return texts[mask]
