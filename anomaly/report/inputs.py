"""Read the leads and run record of a scoring output directory.

``anomaly score`` writes ``leads.csv`` (one row per series, best first) and ``run.json``
(currency, model, scored window) into ``OUT_DIR``; the per-month ``scores.parquet``
beside them is read by :mod:`anomaly.report.monthly`, only for the leads charted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.artifacts import sha256_file
from anomaly.errors import DataError, FormatError, InvalidValueError
from anomaly.schema import LEAD_COLUMNS as SCHEMA_LEAD_COLUMNS

__all__ = [
    "LEAD_COLUMNS",
    "OPTIONAL_LEAD_COLUMNS",
    "ScoringOutput",
    "read_scoring_output",
]

LEADS_FILE = "leads.csv"
RUN_FILE = "run.json"
SCORES_FILE = "scores.parquet"

#: Columns used when present: ``mirror_gap`` (a share, shown as a percentage),
#: ``chp_tier`` (CHP tier, empty for codes not on the list) and ``description`` (the
#: product's words), as ``anomaly score`` writes them.
OPTIONAL_LEAD_COLUMNS: tuple[str, ...] = ("mirror_gap", "chp_tier", "description")
#: Columns ``leads.csv`` must have (the scorer's contract, less the optional ones); it
#: may have more, which the report ignores.
LEAD_COLUMNS: tuple[str, ...] = tuple(
    c for c in SCHEMA_LEAD_COLUMNS if c not in OPTIONAL_LEAD_COLUMNS
)

_NUMERIC = ("rank", "score", "actual", "expected", "lower", "upper", "excess_value", "mirror_gap")
#: Cells read as "no value": empty, or how pandas and other tools spell NaN.
_MISSING = frozenset({"", "nan", "na", "n/a", "null", "none"})
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_EXPECTED_DIR = f"a directory written by `anomaly score`, containing {LEADS_FILE}"


@dataclass(frozen=True)
class ScoringOutput:
    """What the report needs from a scoring output directory.

    Attributes
    ----------
    out_dir : Path
        The directory read.
    leads : pandas.DataFrame
        ``leads.csv`` in rank order: the columns of :data:`LEAD_COLUMNS` plus those of
        :data:`OPTIONAL_LEAD_COLUMNS` present; numbers as float64 (empty cells NaN),
        ``alert`` as bool, text as str (empty cells ``""``, HS codes with leading zeros).
    scores_path : Path or None
        ``scores.parquet`` (a file or a directory of parts), or None when absent.
    currency : str or None
        The currency of every amount (``run.json`` ``currency``), None if not recorded.
    model : str or None
        The model that scored (``run.json`` ``model``; JSON text when not a string).
    scored_window : tuple of two monthly Periods, or None
        First and last scored month (``run.json`` ``scored_window``).
    coverage : str or None
        The reporter-months read as missing (``run.json`` ``coverage``), as one line:
        ``partial: RUS 2022-01; not published: RUS 2022-02..2022-12 (11 months)``.
    """

    out_dir: Path
    leads: pd.DataFrame
    scores_path: Path | None = None
    currency: str | None = None
    model: str | None = None
    scored_window: tuple[pd.Period, pd.Period] | None = None
    coverage: str | None = None


def _check_together(out_dir: Path, run: dict[str, Any], source: str) -> None:
    """Refuse outputs that are not of one run: ``run.json`` records the sha256 of the
    files it was written with (a run interrupted while renaming leaves a mixed set)."""
    files = run.get("files")
    if not isinstance(files, dict):
        return  # written before anomaly recorded them
    for name, digest in sorted(files.items()):
        path = out_dir / str(name)
        if path.is_file() and sha256_file(path) != digest:
            raise DataError(
                f"{name} is not the file this run.json was written with: the outputs "
                "are of different runs (a run interrupted while renaming them?)",
                source=source,
                expected="the three outputs of one `anomaly score` run: score again",
            )


def _coverage(run: dict[str, Any]) -> str | None:
    """``run.json``'s ``coverage`` as one line (None where absent or malformed)."""
    coverage = run.get("coverage")
    if not isinstance(coverage, dict):
        return None
    parts = []
    for status, reporters in sorted(coverage.items()):
        if not isinstance(reporters, dict):
            continue
        spans = [
            f"{reporter} {months[0]}"
            + (f"..{months[-1]} ({len(months)} months)" if len(months) > 1 else "")
            for reporter, months in sorted(reporters.items())
            if isinstance(months, list) and months
        ]
        if spans:
            parts.append(f"{status}: {', '.join(spans)}")
    return "; ".join(parts) or None


def _parse_numbers(leads: pd.DataFrame, column: str, source: str) -> pd.Series:
    text = leads[column].str.strip()
    missing = text.str.lower().isin(_MISSING)
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").astype("float64")
    bad = numbers.isna() & ~missing
    if bad.any():
        raise InvalidValueError(
            "values that are not numbers",
            source=source,
            column=column,
            # The header is line 1; a quoted cell spanning lines would shift this count.
            lines=[int(i) + 2 for i in leads.index[bad]],
            expected="a number, or an empty cell for none",
        )
    return numbers


def _parse_alert(leads: pd.DataFrame, source: str) -> pd.Series:
    text = leads["alert"].str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        raise InvalidValueError(
            "values that are not booleans",
            source=source,
            column="alert",
            lines=[int(i) + 2 for i in leads.index[bad]],
            expected="true or false",
        )
    return text.isin(_TRUE)


def _read_leads(path: Path) -> pd.DataFrame:
    source = str(path)
    try:
        # Everything as text first: HS codes keep their leading zeros, and a malformed
        # number is reported with its line instead of turning the column into objects.
        leads = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as error:
        raise FormatError(
            "empty file", source=source, expected=f"a header with {', '.join(LEAD_COLUMNS)}"
        ) from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise FormatError(f"not a readable CSV file ({error})", source=source) from error
    missing = [column for column in LEAD_COLUMNS if column not in leads.columns]
    if missing:
        raise FormatError(
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            source=source,
            expected=f"columns {', '.join(LEAD_COLUMNS)} as written by `anomaly score`",
        )
    kept = [c for c in (*LEAD_COLUMNS, *OPTIONAL_LEAD_COLUMNS) if c in leads.columns]
    leads = leads[kept].copy()
    for column in kept:
        if column in _NUMERIC:
            leads[column] = _parse_numbers(leads, column, source)
        elif column == "alert":
            leads[column] = _parse_alert(leads, source)
        else:
            leads[column] = leads[column].str.strip()
    # The file is best first already; a stable sort on rank keeps its order for ties.
    leads = leads.sort_values("rank", kind="mergesort", na_position="last")
    return leads.reset_index(drop=True)


def _read_run(path: Path) -> dict[str, Any]:
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FormatError(f"not valid JSON ({error})", source=str(path)) from error
    if not isinstance(run, dict):
        raise FormatError(
            f"a JSON {type(run).__name__} at the top level",
            source=str(path),
            expected='an object such as {"currency": "EUR", "scored_window": [...]}',
        )
    return run


def _window(run: dict[str, Any], source: str) -> tuple[pd.Period, pd.Period] | None:
    window = run.get("scored_window")
    if window is None:
        return None
    try:
        first, last = (pd.Period(month, freq="M") for month in window)
    except (TypeError, ValueError) as error:
        raise FormatError(
            f"scored_window is {window!r}", source=source, expected='["YYYY-MM", "YYYY-MM"]'
        ) from error
    return first, last


def _model(run: dict[str, Any]) -> str | None:
    model = run.get("model")
    if model is None or isinstance(model, str):
        return model
    # A structured description (name and parameters) is shown as compact, stable JSON.
    return json.dumps(model, sort_keys=True, ensure_ascii=False)


def read_scoring_output(out_dir: str | Path) -> ScoringOutput:
    """Read ``leads.csv`` and ``run.json`` of a directory written by ``anomaly score``.

    Parameters
    ----------
    out_dir : str or Path
        The scoring output directory.

    Returns
    -------
    ScoringOutput

    Raises
    ------
    DataError
        If ``out_dir`` is not a directory or holds no ``leads.csv``.
    FormatError
        If ``leads.csv`` lacks required columns (all of them are listed) or ``run.json``
        is not a JSON object.
    InvalidValueError
        If a number or ``alert`` cell cannot be read (the lines are listed).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     read_scoring_output(tmp)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anomaly.errors.DataError: ...: no leads.csv in the directory; expected a directory ...
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        problem = "not a directory" if out_dir.exists() else "no such directory"
        raise DataError(problem, source=str(out_dir), expected=_EXPECTED_DIR)
    leads_path = out_dir / LEADS_FILE
    if not leads_path.is_file():
        raise DataError(
            f"no {LEADS_FILE} in the directory", source=str(out_dir), expected=_EXPECTED_DIR
        )
    run_path = out_dir / RUN_FILE
    run = _read_run(run_path) if run_path.is_file() else {}
    _check_together(out_dir, run, str(run_path))
    currency = run.get("currency")
    scores_path = out_dir / SCORES_FILE
    return ScoringOutput(
        out_dir=out_dir,
        leads=_read_leads(leads_path),
        scores_path=scores_path if scores_path.exists() else None,
        currency=currency if isinstance(currency, str) and currency else None,
        model=_model(run),
        scored_window=_window(run, str(run_path)),
        coverage=_coverage(run),
    )
