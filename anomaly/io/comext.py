"""Read Eurostat Comext web extracts: the long extract and the "relational view" download.

Long extract (``format="comext"``)::

    reporter,partner,product,flow,period,value
    Austria,Armenia,84715000,EXPORT,2020-01,24709.0

Relational view (``format="comext-relational"``), possibly several downloads stacked
in one file, each with its header line and its own period spelling::

    REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR
    Malta,Kazakhstan,TOTAL-Total,EXPORT,T-Total,201910-Oct. 2019,317
    "France (incl. Saint Barthélemy 'BL' -> 2012; ...)",Armenia,Total,EXPORT,Total,Aug. 2024,1234

Decisions, for both:

- Countries are Eurostat names (``Russian Federation (Russia)``) or codes; reporters
  and partners that are aggregates (``European Union - 27 countries (AT, BE, ...)``,
  ``Euro area ...``) total their members' rows and are left out (``attrs["dropped"]``).
- ``PRODUCT`` may be ``code-label`` (``TOTAL-Total``, ``85423190-Electronic ...``) or
  a bare label; the total over all products becomes hs :data:`~anomaly.io.TOTAL_HS`.
- ``STAT_PROCEDURE``: the total (``T-Total``/``Total``) is kept. Other procedures
  (normal, inward/outward processing) are parts of the total: beside a total row of
  the same key they are left out; without one the file is refused, because summing
  whichever parts were downloaded would undercount silently.
- Values are EUR; ``:`` (confidential) is an error that says what to do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.errors import FormatError, describe_items
from anomaly.io.codes import hs_codes, map_codes
from anomaly.io.countries import aggregate_drops, map_countries
from anomaly.io.keys import combine_codes
from anomaly.io.origin import LINE, Source, error_at
from anomaly.io.parsed import Dropped, ParsedFile
from anomaly.io.periods import periods_column
from anomaly.io.rawtable import RawTable
from anomaly.io.text import distinct_text
from anomaly.io.values import parse_numbers

CURRENCY = "EUR"
FLOW_CODES = {"EXPORT": "export", "IMPORT": "import", "2-EXPORT": "export", "1-IMPORT": "import"}
EXTRACT_COLUMNS = {
    "reporter": "reporter",
    "partner": "partner",
    "hs": "product",
    "flow": "flow",
    "period": "period",
    "value": "value",
}
RELATIONAL_COLUMNS = {
    "reporter": "REPORTER",
    "partner": "PARTNER",
    "hs": "PRODUCT",
    "flow": "FLOW",
    "period": "PERIOD",
}
PROCEDURE_COLUMN = "STAT_PROCEDURE"
#: Codes of the total over all statistical procedures (compared case-insensitively).
TOTAL_PROCEDURES = ("T", "TOTAL")
# Optional indicator columns of the relational view: canonical column and factor to it,
# the first of each canonical column found is read.
RELATIONAL_QUANTITIES = {
    "QUANTITY_IN_100KG": ("weight_kg", 100.0),
    "QUANTITY_IN_KG": ("weight_kg", 1.0),
    "SUPPLEMENTARY_QUANTITY": ("quantity", 1.0),
}


def read_comext(raw: RawTable) -> ParsedFile:
    """Read a Comext long extract (``reporter, partner, product, flow, period, value``)."""
    return _read(raw, EXTRACT_COLUMNS, {}, "comext")


def read_comext_relational(raw: RawTable) -> ParsedFile:
    """Read a Comext "relational view" download, stacked downloads included."""
    value = next(name for name in ("VALUE_IN_EUR", "VALUE_IN_EUROS") if name in raw.frame)
    quantities: dict[str, tuple[str, float]] = {}
    for column, (canonical, factor) in RELATIONAL_QUANTITIES.items():
        if column in raw.frame:
            quantities.setdefault(canonical, (column, factor))
    columns = {
        **RELATIONAL_COLUMNS,
        "value": value,
        **{canonical: column for canonical, (column, _) in quantities.items()},
    }
    return _read(raw, columns, quantities, "comext-relational")


def code_of_label(values: pd.Series) -> pd.Series:
    """The code of ``code-label`` cells (``TOTAL-Total`` -> ``TOTAL``), else the cell.

    A bare ``Total`` label is read as ``TOTAL``.

    Examples
    --------
    >>> code_of_label(pd.Series(["TOTAL-Total", "Total", "85423190-Processors", "8542"])).tolist()
    ['TOTAL', 'TOTAL', '85423190', '8542']
    """
    codes, text = distinct_text(values)
    code = text.str.extract(r"^([0-9A-Za-z]+)-", expand=False).fillna(text)
    code = code.mask(code.str.casefold() == "total", "TOTAL")
    return pd.Series(code.to_numpy(dtype=object)[codes], index=values.index, dtype=object)


def _read(
    raw: RawTable,
    columns: dict[str, str],
    quantities: dict[str, tuple[str, float]],
    format: str,
) -> ParsedFile:
    source = Source(raw.path, columns)
    sources = [source]
    frame = raw.frame.assign(**{columns["hs"]: code_of_label(raw.frame[columns["hs"]])})
    period = periods_column(frame[columns["period"]], frame, sources)
    dropped = list(raw.dropped)
    if PROCEDURE_COLUMN in frame:
        beside_total = _procedures_beside_totals(frame, period, columns, sources)
        if beside_total.any():
            names = pd.unique(frame.loc[beside_total, PROCEDURE_COLUMN].astype(object))
            dropped.append(
                Dropped.of(
                    f"statistical procedure {describe_items(map(repr, names))} beside the "
                    "total of the same flow (a part of it)",
                    frame,
                    beside_total,
                )
            )
            frame, period = frame.loc[~beside_total], period.loc[~beside_total]
    reporter, reporter_aggregate = map_countries(
        frame, [(columns["reporter"], "auto")], sources, label="reporter"
    )
    partner, partner_aggregate = map_countries(
        frame, [(columns["partner"], "auto")], sources, label="partner"
    )
    dropped += aggregate_drops(
        frame, reporter_aggregate, partner_aggregate, columns["reporter"], columns["partner"]
    )
    keep = ~(reporter_aggregate | partner_aggregate)
    frame, period = frame.loc[keep], period.loc[keep]
    flow, _ = map_codes(frame, columns["flow"], FLOW_CODES, sources, what="flow", label="flow")
    typed = pd.DataFrame(
        {
            "period": period,
            "reporter": reporter.loc[keep],
            "partner": partner.loc[keep],
            "flow": flow,
            "hs": hs_codes(frame, columns["hs"], sources),
            "value": parse_numbers(frame, columns["value"], sources, required=True, label="value"),
            LINE: frame[LINE],
        }
    )
    for canonical, (column, factor) in quantities.items():
        numbers = parse_numbers(frame, column, sources, required=False, label=canonical)
        typed[canonical] = numbers * factor
    return ParsedFile(typed, source, format, CURRENCY, dropped)


def _procedures_beside_totals(
    frame: pd.DataFrame, period: pd.Series, columns: dict[str, str], sources: list[Source]
) -> np.ndarray:
    """Rows of a non-total procedure whose key also has a total row; refuse the rest."""
    total = code_of_label(frame[PROCEDURE_COLUMN]).str.upper().isin(TOTAL_PROCEDURES).to_numpy()
    if total.all():
        return np.zeros(len(frame), dtype=bool)
    parts = [pd.factorize(period)[0]]
    parts += [
        pd.factorize(frame[columns[name]])[0] for name in ("reporter", "partner", "hs", "flow")
    ]
    key = combine_codes(parts)
    has_total = np.isin(key, key[total])
    alone = ~total & ~has_total
    if alone.any():
        names = pd.unique(frame.loc[alone, PROCEDURE_COLUMN].astype(object))
        raise error_at(
            FormatError,
            f"rows of statistical procedure {describe_items(map(repr, names))} without a "
            "total row for the same flow; procedures are parts of the total, and summing "
            "the parts that happen to be downloaded would undercount",
            frame,
            alone,
            sources,
            column=PROCEDURE_COLUMN,
            expected="a download with STAT_PROCEDURE = total (T-Total)",
        )
    return ~total
