"""Parse the period spellings of trade statistics into pandas Periods.

Accepted spellings (surrounding blanks ignored), and where they are seen:

- ``2023``: a year (canonical files, Comtrade);
- ``202301``: a month (Comtrade, Comext bulk); ``202252``: the year 2022 (Comext bulk
  period code 52);
- ``2023-01``, ``2023-1``: a month (canonical files, Comext extracts);
- ``2023-01-01``: a month, given by its first day (Comtrade);
- ``2023M01``, ``2023M1``: a month (SDMX time periods: IMF, OECD, Eurostat's
  dissemination API);
- ``Jan. 2023``, ``Jan 2023``, ``January 2023``: a month (Comext "relational view");
- ``202301-Jan. 2023``: code and label of a month (Comext "relational view"); the
  label must name the same month as the code.

Parsing works on the distinct values, so a million rows cost a few dozen parses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomaly.errors import PeriodError, describe_items
from anomaly.io.origin import Source, error_at
from anomaly.io.text import lookup, remembered_by_text

MONTHLY = "M"
ANNUAL = "Y"
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_ANNUAL_CODE = 52
_YEARS = (1900, 2100)
#: ``YYYY-MM`` with a year of :data:`_YEARS` and a month 01-12, read without pandas.
_ISO_MONTH = re.compile(r"(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])")
_PATTERNS = {
    # name: (regex, frequency of a match)
    "year": r"^(?P<year>\d{4})$",
    "code": r"^(?P<year>\d{4})(?P<month>\d{2})$",
    "iso": r"^(?P<year>\d{4})-(?P<month>\d{1,2})(?:-01(?:[ T]00:00(?::00)?)?)?$",
    "sdmx": r"^(?P<year>\d{4})M(?P<month>\d{1,2})$",
    "label": r"^(?P<name>[A-Za-z]{3,9})\.?\s+(?P<year>\d{4})$",
    "code_label": r"^(?P<year>\d{4})(?P<month>\d{2})-(?P<label>.+)$",
}
_MONTH_PREFIXES = {
    name[:length]: number
    for number, name in enumerate(_MONTHS, start=1)
    for length in range(3, len(name) + 1)
}
EXPECTED = "a period such as 2023-01, 202301, 2023M01, Jan. 2023, 202301-Jan. 2023, 2023 or 202352"


def parse_periods(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse period spellings (monthly or annual), by distinct value.

    Parameters
    ----------
    values : Series of str
        The spellings, e.g. a column read as strings.

    Returns
    -------
    ordinals : ndarray of int64
        Period ordinals (months or years since 1970), ``-1`` where unparseable.
    freqs : ndarray of str
        ``"M"``, ``"Y"`` or ``""`` (unparseable), per value.

    Examples
    --------
    >>> ordinals, freqs = parse_periods(pd.Series(["2023-01", "Feb. 2023", "202303"]))
    >>> pd.PeriodIndex.from_ordinals(ordinals, freq="M").strftime("%Y-%m").tolist()
    ['2023-01', '2023-02', '2023-03']
    >>> parse_periods(pd.Series(["2022", "202252", "2022-13"]))[1].tolist()
    ['Y', 'Y', '']
    """
    codes, ordinals, freqs = _parse_distinct(values)
    # Missing values have code -1, which picks the appended "unparseable" slot.
    return np.append(ordinals, -1)[codes], np.append(freqs, "")[codes]


def _parse_distinct(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of ``values`` (-1 where missing) and the ordinals and frequencies of its
    distinct spellings (a categorical column is its codes and categories already)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    spellings = tuple(np.asarray(uniques, dtype=object).astype(str))
    ordinals, freqs = _parse_spellings(spellings)
    return codes, ordinals, freqs


@remembered_by_text
def _parse_spellings(spellings: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Ordinals and frequencies of distinct spellings (remembered: the batches of one
    file mostly hold the same few periods, and parsing them is pandas string work).

    ``YYYY-MM``, the canonical spelling, is read without pandas: a file sorted by
    month brings new months in every batch, and each parse by patterns costs
    milliseconds however few spellings it is given.
    """
    iso = [_ISO_MONTH.fullmatch(spelling) for spelling in spellings]
    ordinals = np.array(
        [-1 if m is None else (int(m[1]) - 1970) * 12 + int(m[2]) - 1 for m in iso],
        dtype=np.int64,
    )
    freqs = np.full(len(spellings), MONTHLY, dtype="<U1")
    other = np.array([m is None for m in iso], dtype=bool)
    if other.any():
        text = pd.Series(spellings, dtype=object)[other].str.strip()
        ordinals[other], freqs[other] = _parse_unique(text)
    return ordinals, freqs


def _parse_unique(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    year = pd.Series(np.nan, index=text.index)
    month = pd.Series(np.nan, index=text.index)
    annual = pd.Series(False, index=text.index)
    valid = pd.Series(True, index=text.index)
    matched = pd.Series(False, index=text.index)
    for name, pattern in _PATTERNS.items():
        found = text.str.extract(pattern).reindex(columns=["year", "month", "name", "label"])
        hit = found["year"].notna() & ~matched
        matched |= hit
        year = year.mask(hit, pd.to_numeric(found["year"], errors="coerce"))
        if name == "year":
            annual |= hit
        elif name == "label":
            month = month.mask(hit, _month_number(found["name"]))
        else:
            number = pd.to_numeric(found["month"], errors="coerce")
            is_annual = hit & (number == _ANNUAL_CODE) & (name not in ("iso", "sdmx"))
            annual |= is_annual
            month = month.mask(hit & ~is_annual, number)
            if name == "code_label":
                valid &= ~hit | _label_agrees(found["label"], year, month, is_annual)
    monthly = matched & ~annual
    valid &= matched & year.between(*_YEARS)
    valid &= ~monthly | month.between(1, 12)
    ordinals = np.where(
        annual,
        year.fillna(1970) - 1970,
        (year.fillna(1970) - 1970) * 12 + month.fillna(1) - 1,
    ).astype(np.int64)
    freqs = np.where(~valid, "", np.where(annual, ANNUAL, MONTHLY))
    return np.where(valid, ordinals, -1), freqs


def _month_number(names: pd.Series) -> pd.Series:
    """1-12 for an English month name or a prefix of it of at least three letters."""
    return names.str.lower().map(_MONTH_PREFIXES).astype(float)


def _label_agrees(
    labels: pd.Series, year: pd.Series, month: pd.Series, annual: pd.Series
) -> pd.Series:
    # "202301-Jan. 2023": the code decides; a label that reads as another month is
    # a corrupt spelling. Labels that are not month names ("Jan.-Dec. 2022") pass.
    found = labels.str.strip().str.extract(_PATTERNS["label"])
    label_month = _month_number(found["name"])
    label_year = pd.to_numeric(found["year"], errors="coerce")
    readable = label_month.notna() & ~annual
    return ~readable | ((label_month == month) & (label_year == year))


def periods_column(
    values: pd.Series,
    frame: pd.DataFrame,
    sources: Sequence[Source],
    *,
    column: str = "period",
) -> pd.Series:
    """Parse a column into one Period dtype, raising for bad or mixed spellings.

    Raises
    ------
    PeriodError
        A value cannot be parsed (the distinct bad values and their lines are named),
        or monthly and annual periods are mixed (the lines of the rarer kind are named).
    """
    # Every test runs on the distinct spellings; rows are only counted and indexed.
    codes, distinct_ordinals, distinct_freqs = _parse_distinct(values)
    missing = len(distinct_freqs)
    if (codes < 0).any():
        codes = np.where(codes < 0, missing, codes.astype(np.int64))
    distinct_ordinals = np.append(distinct_ordinals, -1)
    distinct_freqs = np.append(distinct_freqs, "")
    per_code = np.bincount(codes, minlength=missing + 1)
    if per_code[distinct_freqs == ""].any():
        bad = lookup(distinct_freqs == "", codes)
        distinct = pd.unique(pd.Series(values[bad], dtype=object).astype(str))
        raise error_at(
            PeriodError,
            f"period(s) {describe_items(map(repr, distinct))} cannot be parsed",
            frame,
            bad,
            sources,
            column=column,
            expected=EXPECTED,
        )
    counts_of = {
        kind: int(per_code[distinct_freqs == kind].sum()) for kind in sorted((ANNUAL, MONTHLY))
    }
    kinds = np.array([kind for kind, n in counts_of.items() if n])
    counts = np.array([counts_of[kind] for kind in kinds])
    if len(kinds) > 1:
        freqs = distinct_freqs[codes]
        # List the rarer kind; on a tie, the kind the file does not start with.
        rare = kinds[np.argmin(counts)] if counts[0] != counts[1] else kinds[kinds != freqs[0]][0]
        raise error_at(
            PeriodError,
            "monthly and annual periods are mixed "
            f"({counts[kinds == MONTHLY][0]} monthly, {counts[kinds == ANNUAL][0]} annual rows); "
            f"the {'annual' if rare == ANNUAL else 'monthly'} rows are listed",
            frame,
            freqs == rare,
            sources,
            column=column,
            expected="one frequency per table: read monthly and annual data separately",
        )
    freq = kinds[0] if len(kinds) else MONTHLY
    periods = pd.arrays.PeriodArray(distinct_ordinals[codes], dtype=pd.PeriodDtype(freq))
    return pd.Series(periods, index=values.index, name="period", copy=False)
