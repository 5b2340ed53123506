"""Turn a column of published numbers into float64, naming every bad cell's line."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anomaly.errors import ConfidentialValueError, InvalidValueError, describe_items
from anomaly.io.origin import Source, error_at

#: Spellings of "no number here" in statistics downloads (Comtrade writes ``NA``).
MISSING_TOKENS: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")
#: Eurostat marks a suppressed (confidential) or unavailable cell with ``:``,
#: sometimes followed by a flag letter (``:c``).
CONFIDENTIAL_PREFIX = ":"


def parse_numbers(
    frame: pd.DataFrame,
    column: str,
    sources: Sequence[Source],
    *,
    required: bool,
    label: str | None = None,
) -> pd.Series:
    """Parse ``frame[column]`` into float64 (NaN where missing), or raise.

    Parameters
    ----------
    frame : DataFrame
        Holds the column and the line column.
    column : str
        The column to parse: strings, or numbers already.
    sources : sequence of Source
        For error messages.
    required : bool
        Whether a missing value is an error (trade values) or allowed (quantities).
    label : str, optional
        The canonical name the column becomes, to name it as the file spells it.

    Raises
    ------
    ConfidentialValueError
        A cell holds the confidential marker ``:``.
    InvalidValueError
        A cell is not a number, is infinite, or is missing where required.
    """
    values = frame[column]
    name = label or column
    if pd.api.types.is_bool_dtype(values) or not (
        pd.api.types.is_numeric_dtype(values) or _is_text(values)
    ):
        raise error_at(
            InvalidValueError,
            f"the column holds {values.dtype} values, not numbers",
            frame,
            np.ones(len(frame), dtype=bool),
            sources,
            column=name,
            expected="numbers",
        )
    numbers = _arrow_float(values) if _is_text(values) else None
    if numbers is not None:
        missing = np.zeros(len(numbers), dtype=bool)
    elif _is_text(values):
        text = pd.Series(values.to_numpy(dtype=object, na_value=""), dtype=object)
        text = text.astype(str).str.strip()
        missing = text.isin(MISSING_TOKENS).to_numpy()
        confidential = text.str.startswith(CONFIDENTIAL_PREFIX).to_numpy()
        if confidential.any():
            raise error_at(
                ConfidentialValueError,
                f"{confidential.sum()} value(s) are the confidential marker ':' "
                "(the publisher suppressed them), not numbers",
                frame,
                confidential,
                sources,
                column=name,
                expected="a number; delete these rows (an absent row means nothing was "
                "reported) or fill in values you know, then read the file again",
            )
        numbers = pd.to_numeric(text.mask(missing, ""), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        bad = np.isnan(numbers) & ~missing
        if bad.any():
            distinct = pd.unique(text[bad])
            raise error_at(
                InvalidValueError,
                f"value(s) {describe_items(map(repr, distinct))} are not numbers",
                frame,
                bad,
                sources,
                column=name,
                expected="a number with a decimal point, such as 1234.5 (no thousands "
                "separators, no decimal comma)",
            )
    else:
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(numbers)
    if np.isinf(numbers).any():
        raise error_at(
            InvalidValueError,
            "infinite value(s)",
            frame,
            np.isinf(numbers),
            sources,
            column=name,
            expected="a finite number",
        )
    if required and missing.any():
        raise error_at(
            InvalidValueError,
            f"{missing.sum()} value(s) are missing",
            frame,
            missing,
            sources,
            column=name,
            expected="a number in every row; a flow that was not reported is an absent row",
        )
    return pd.Series(numbers, index=frame.index, name=label or column)


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values) or values.dtype == object


def _arrow_float(values: pd.Series) -> np.ndarray | None:
    """Parse a clean text column in one Arrow call; None if any cell is not a number."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    try:
        strings = pa.array(values)
        numbers = pc.cast(pc.utf8_trim_whitespace(strings), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if numbers.null_count or pc.any(pc.is_nan(numbers)).as_py():
        return None
    return numbers.to_numpy(zero_copy_only=False)
