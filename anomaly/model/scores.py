"""The result of scoring: leads, series-month detail, and how they are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from anomaly.model.evidence import WindowEvidence
from anomaly.model.outputs import run_record, write_outputs
from anomaly.panel import Panel, positions
from anomaly.schema import SERIES_KEY_COLUMNS

#: Leads whose earlier months are kept for charts, and how many months back.
HISTORY_LEADS = 50
HISTORY_MONTHS = 36


@dataclass(frozen=True)
class Scores:
    """Ranked leads and their monthly evidence.

    Attributes
    ----------
    leads : pandas.DataFrame
        One row per series scored, best first (see ``anomaly.schema.LEAD_COLUMNS``).
    frame : pandas.DataFrame
        One row per series-month of the scoring window: ``period, reporter, partner,
        flow, hs, actual, expected, lower, upper, z`` (``actual`` ``NaN`` where the
        reporter did not publish), then the months before the window of the top leads
        (``in_window`` False; forecast columns empty there), for charts.
    run : dict
        Window, currency, counts: what ``run.json`` records (see
        :func:`anomaly.model.outputs.run_record`).
    """

    leads: pd.DataFrame
    frame: pd.DataFrame
    run: dict = field(default_factory=dict)

    @classmethod
    def from_evidence(
        cls,
        leads: pd.DataFrame,
        evidence: WindowEvidence,
        panel: Panel | None,
        *,
        currency: str | None,
    ) -> Scores:
        """Assemble the frame from a window's evidence (and the panel's history, if given)."""
        summary, monthly, periods = evidence.summary, evidence.monthly, evidence.periods
        n_series, n_months = monthly["actual"].shape
        frame = pd.DataFrame(
            {"period": np.tile(periods.astype(str), n_series)}
            | {c: np.repeat(summary[c].to_numpy(), n_months) for c in SERIES_KEY_COLUMNS}
            | {name: values.ravel() for name, values in monthly.items()}
        )
        frame["in_window"] = True
        if panel is not None:
            history = _history(leads.head(HISTORY_LEADS), panel, periods[0])
            frame = pd.concat([frame, history], ignore_index=True) if len(history) else frame
        return cls(leads, frame, run_record(leads, periods, currency=currency))

    def write(self, out_dir: str | Path, *, extra: dict | None = None) -> Path:
        """Write ``leads.csv``, ``scores.parquet`` and ``run.json`` into ``out_dir``.

        All three are first written to temporary files beside their targets; only when
        every one is complete are they renamed into place (see
        :func:`anomaly.model.outputs.write_outputs`).
        """
        table = pa.Table.from_pandas(self.frame, preserve_index=False)
        return write_outputs(out_dir, self.leads, [table], self.run | (extra or {}))


def _history(top: pd.DataFrame, panel: Panel, start: pd.Period) -> pd.DataFrame:
    """Actual values of the ``top`` leads' series in the months before ``start``."""
    if top.empty:
        return pd.DataFrame()
    before = panel.window(start - HISTORY_MONTHS, start - 1)
    rows = positions(before.keys, top[list(SERIES_KEY_COLUMNS)])
    rows = rows[rows >= 0]
    if not len(rows):
        return pd.DataFrame()
    chosen = before.select(rows)
    published = before.published_mask()[rows]
    actual = np.where(published, np.nan_to_num(chosen.values), np.nan)
    n_months = chosen.n_periods
    frame = pd.DataFrame(
        {"period": np.tile(chosen.periods.astype(str), len(rows))}
        | {c: np.repeat(chosen.keys[c].to_numpy(), n_months) for c in SERIES_KEY_COLUMNS}
        | {"actual": actual.ravel()}
    )
    for name in ("expected", "lower", "upper", "z"):
        frame[name] = np.nan
    frame["in_window"] = False
    return frame
