"""Each pass's result for one partition, on disk: nothing executable, nothing pickled.

- pass 1 (``panels/part-P``): the partition's panel (``keys.parquet``,
  ``values.npy``, ``appended.npy``: the trained series added to it) and its
  :class:`Share` of the scoring context (``context.npz``, ``history.parquet``);
- pass 2 (``evidence/part-P``): its :class:`~anomaly.model.evidence.WindowEvidence`
  (``summary.parquet`` and one ``.npy`` per monthly array) and ``trained.npy``.

Arrays are ``.npy``/``.npz`` read with ``allow_pickle=False``; tables are Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly.model import DEMAND_KEYS, ScoringContext, WindowEvidence
from anomaly.panel import Panel

#: Monthly arrays of the evidence, in the order of the scores table's columns.
MONTHLY = ("actual", "expected", "lower", "upper", "z")
#: Index levels of the chapter counts of a context.
CHAPTER_LEVELS = ("reporter", "direction", "chapter")


@dataclass(frozen=True)
class Share:
    """What one partition contributes to the whole run's scoring context.

    Attributes
    ----------
    context : ScoringContext
        Its share of publication and general demand in the window.
    history : pandas.DataFrame
        ``reporter, period`` (month ordinals): the months before the window in which
        each reporter published rows of this partition (for the top leads' charts).
    """

    context: ScoringContext
    history: pd.DataFrame

    def merge(self, other: Share) -> Share:
        """The share of the union of two disjoint sets of series."""
        history = pd.concat([self.history, other.history]).drop_duplicates(ignore_index=True)
        return Share(self.context.merge(other.context), history)


def save_panel(folder: Path, panel: Panel, appended: np.ndarray, share: Share) -> None:
    """Write pass 1 of a partition into ``folder``."""
    panel.keys.to_parquet(folder / "keys.parquet", index=False)
    np.save(folder / "values.npy", panel.values)
    np.save(folder / "appended.npy", appended)
    save_context(folder / "context.npz", share.context)
    share.history.to_parquet(folder / "history.parquet", index=False)


def load_panel(folder: Path, periods: pd.PeriodIndex) -> tuple[Panel, np.ndarray]:
    """The panel of pass 1 and the trained rows it appended (global positions)."""
    keys = pd.read_parquet(folder / "keys.parquet")
    values = np.load(folder / "values.npy", allow_pickle=False)
    return Panel(keys, periods, values), np.load(folder / "appended.npy", allow_pickle=False)


def load_share(folder: Path) -> Share:
    """The context share of pass 1."""
    history = pd.read_parquet(folder / "history.parquet")
    return Share(load_context(folder / "context.npz"), history)


def save_context(path: Path, context: ScoringContext) -> None:
    """Write a :class:`ScoringContext` as plain arrays."""
    keys = context.demand_keys
    imports = context.import_rows
    chapters = context.chapter_rows
    np.savez(
        path,
        periods=context.periods.asi8,
        reporters=_text(context.rows.index),
        rows=context.rows.to_numpy(dtype=np.int64),
        value=context.value.to_numpy(dtype=np.float64),
        norm_reporters=_text(context.norms.index),
        norm_rows=context.norms["rows"].to_numpy(np.float64),
        norm_value=context.norms["value"].to_numpy(np.float64),
        **{f"key_{name}": _text(keys[name]) for name in DEMAND_KEYS},
        n=keys["n"].to_numpy(np.int64),
        actual=context.demand_actual,
        expected=context.demand_expected,
        **({} if imports is None else {"import_rows": imports.to_numpy(dtype=np.int64)}),
        **({} if chapters is None else _chapter_arrays(chapters)),
    )


def _chapter_arrays(chapters: pd.DataFrame) -> dict[str, np.ndarray]:
    """The chapter counts of a context (:attr:`ScoringContext.chapter_rows`) as arrays."""
    index = chapters.index
    return {
        "chapter_rows": chapters.to_numpy(dtype=np.int64),
        **{f"chapter_{name}": _text(index.get_level_values(name)) for name in CHAPTER_LEVELS},
    }


def _chapter_counts(data, months: range) -> pd.DataFrame | None:
    """What :func:`_chapter_arrays` wrote, or None (a work dir of an older version)."""
    if "chapter_rows" not in data:
        return None
    levels = [data[f"chapter_{name}"].astype(object) for name in CHAPTER_LEVELS]
    index = pd.MultiIndex.from_arrays(levels, names=list(CHAPTER_LEVELS))
    return pd.DataFrame(data["chapter_rows"], index=index, columns=months)


def load_context(path: Path) -> ScoringContext:
    """Read what :func:`save_context` wrote."""
    with np.load(path, allow_pickle=False) as data:
        periods = pd.PeriodIndex.from_ordinals(data["periods"], freq="M")
        reporters = pd.Index(data["reporters"].astype(object))
        months = range(len(periods))
        rows = pd.DataFrame(data["rows"], index=reporters, columns=months)
        value = pd.DataFrame(data["value"], index=reporters, columns=months)
        norms = pd.DataFrame(
            {"rows": data["norm_rows"], "value": data["norm_value"]},
            index=pd.Index(data["norm_reporters"].astype(object)),
        )
        keys = pd.DataFrame({name: data[f"key_{name}"].astype(object) for name in DEMAND_KEYS})
        keys["n"] = data["n"]
        imports = (
            pd.DataFrame(data["import_rows"], index=reporters, columns=months)
            if "import_rows" in data
            else None
        )
        return ScoringContext(
            periods,
            rows,
            value,
            norms,
            keys,
            data["actual"],
            data["expected"],
            import_rows=imports,
            chapter_rows=_chapter_counts(data, months),
        )


def save_evidence(folder: Path, evidence: WindowEvidence, trained: np.ndarray) -> None:
    """Write pass 2 of a partition into ``folder``.

    ``trained`` is, per summary row, the trained series' global position if the row
    was appended as a trained series absent from the data, else -1 (it fixes the
    row's place in the in-memory order).
    """
    evidence.summary.to_parquet(folder / "summary.parquet", index=False)
    np.save(folder / "trained.npy", trained)
    for name in MONTHLY:
        np.save(folder / f"{name}.npy", evidence.monthly[name])


def load_summary(folder: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The summary of pass 2 and its ``trained`` positions."""
    summary = pd.read_parquet(folder / "summary.parquet")
    # ``onset`` holds a month or None, as in memory (Parquet reads None as missing).
    summary["onset"] = summary["onset"].astype(object).where(summary["onset"].notna(), None)
    return summary, np.load(folder / "trained.npy", allow_pickle=False)


def monthly_arrays(folder: Path) -> dict[str, np.ndarray]:
    """The monthly arrays of pass 2, memory-mapped (read only as rows are gathered)."""
    return {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in MONTHLY}


def _text(values) -> np.ndarray:
    return np.asarray(values, dtype=object).astype(str)
