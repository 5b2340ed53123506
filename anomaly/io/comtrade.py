"""Read UN Comtrade files: the legacy snake_case download and the v1 API's columns.

Legacy (``format="comtrade"``): ``period`` (``202201`` or ``2022-01-01``),
``trade_flow`` (Export, Import, Re-export, Re-import), ``reporter_code`` (M49) or
``reporter_iso``, ``partner_iso`` (or ``partner_code``), ``commodity_code``,
``trade_value_us``, ``cifvalue``, ``fobvalue``, ``netweight_kg``, ``Qty``; ``NA``
marks a missing number.

API v1 (``format="comtrade-api"``): ``period`` or ``refPeriodId``, ``reporterISO`` or
``reporterCode``, ``partnerISO`` or ``partnerCode``, ``flowCode``, ``cmdCode``,
``primaryValue``, ``cifvalue``, ``fobvalue``, ``qty``, ``netWgt``.

Decisions, for both:

- ``value`` is FOB for exports and re-exports, CIF for imports and re-imports (as
  Comtrade defines its primary value), taken from ``trade_value_us``/``primaryValue``
  where the preferred one is missing. Both bases are kept where published, as
  ``value_fob`` and ``value_cif``. Values are USD.
- Partners that are not countries (World ``W00``/``WLD``/0, "Areas, nes", ...) are
  totals or remainders: summed with countries they double count. They are left out
  and recorded in ``attrs["dropped"]``.
- API flows: X, M, RX, RM map to export, import, re-export, re-import. DX (domestic
  exports), FM (foreign imports) and the processing flows MIP, XIP, MOP, XOP are parts
  of X and M: kept they would double count, so they are left out and recorded. Other
  codes are an error.
- Breakdowns (``motCode``/``mot_code``, ``customsCode``, ``partner2Code``/
  ``partner2ISO``, ``mosCode``) are resolved per key by :mod:`anomaly.io.breakdowns`:
  where the file holds the total row (``0``, ``C00``, ``0``/``W00``), its breakdowns are
  left out and recorded in ``attrs["dropped"]``; where it holds only breakdowns, they
  are summed into the key's total, logged, and recorded in
  ``attrs["aggregated_breakdowns"]`` (``source``, ``dimensions``, ``columns``, ``keys``,
  ``rows``, ``lines``). Rows of part flows and aggregate partners are left out for
  that reason, breakdowns or not.
- ``cmdCode`` ``TOTAL`` becomes hs :data:`~anomaly.io.TOTAL_HS`.
- API ``refPeriodId`` is ``YYYYMMDD``: ``freqCode`` (A/M) or ``refMonth`` (52 = year)
  says whether it is a month or a year; without either the file is refused.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from anomaly.errors import FormatError, InvalidValueError
from anomaly.io.breakdowns import (
    BreakdownPlan,
    Coordinates,
    coordinates,
    plan_breakdowns,
    sum_rows,
    summary,
)
from anomaly.io.codes import hs_codes, map_codes
from anomaly.io.countries import aggregate_drops, map_countries
from anomaly.io.keys import combine_codes, duplicate_error
from anomaly.io.origin import LINE, Source, error_at
from anomaly.io.parsed import Dropped, ParsedFile
from anomaly.io.periods import periods_column
from anomaly.io.rawtable import RawTable
from anomaly.io.text import text_column
from anomaly.io.validate import NUMBER_COLUMNS, check_negative
from anomaly.io.values import parse_numbers
from anomaly.schema import KEY_COLUMNS, OUTWARD_FLOWS

logger = logging.getLogger(__name__)

CURRENCY = "USD"
LEGACY_FLOWS = {
    "Export": "export",
    "Import": "import",
    "Re-export": "re-export",
    "Re-import": "re-import",
}
API_FLOWS = {"X": "export", "M": "import", "RX": "re-export", "RM": "re-import"}
API_PART_FLOWS = ("DX", "FM", "MIP", "XIP", "MOP", "XOP")
#: Columns of the quantity unit: quantities in different units are not summed.
_UNIT_COLUMNS = ("qtyUnitCode", "QtyUnitCode", "qty_unit_code")
_PERIOD_TEXT = "_period_text"
_LEGACY_COLUMNS = {
    "period": "period",
    "reporter": "reporter_iso",
    "partner": "partner_iso",
    "flow": "trade_flow",
    "hs": "commodity_code",
    "value": "trade_value_us",
    "value_fob": "fobvalue",
    "value_cif": "cifvalue",
    "quantity": "Qty",
    "weight_kg": "netweight_kg",
}
_API_COLUMNS = {
    "period": "period",
    "reporter": "reporterISO",
    "partner": "partnerISO",
    "flow": "flowCode",
    "hs": "cmdCode",
    "value": "primaryValue",
    "value_fob": "fobvalue",
    "value_cif": "cifvalue",
    "quantity": "qty",
    "weight_kg": "netWgt",
}


def read_comtrade(raw: RawTable) -> ParsedFile:
    """Read a legacy UN Comtrade download (snake_case columns)."""
    countries = {
        "reporter": [("reporter_iso", "alpha3"), ("reporter_code", "comtrade")],
        "partner": [("partner_iso", "alpha3"), ("partner_code", "comtrade")],
    }
    return _read(raw, _LEGACY_COLUMNS, countries, LEGACY_FLOWS, (), "comtrade", raw.frame["period"])


def read_comtrade_api(raw: RawTable) -> ParsedFile:
    """Read UN Comtrade API v1 records (the JSON fields as CSV or Parquet columns)."""
    countries = {
        "reporter": [("reporterISO", "alpha3"), ("reporterCode", "comtrade")],
        "partner": [("partnerISO", "alpha3"), ("partnerCode", "comtrade")],
    }
    if "period" in raw.frame:
        columns, periods = _API_COLUMNS, raw.frame["period"]
    else:
        columns = {**_API_COLUMNS, "period": "refPeriodId"}
        periods = _api_periods(raw.frame, raw.path)
    return _read(raw, columns, countries, API_FLOWS, API_PART_FLOWS, "comtrade-api", periods)


def _api_periods(frame: pd.DataFrame, path: str) -> pd.Series:
    """Spell ``refPeriodId`` (``YYYYMMDD``, or already ``YYYYMM``/``YYYY``) as a period."""
    ref = text_column(frame["refPeriodId"])
    if not ref.str.len().eq(8).any():
        return ref
    if "freqCode" in frame:
        annual = text_column(frame["freqCode"]).str.upper().eq("A")
    elif "refMonth" in frame:
        annual = text_column(frame["refMonth"]).eq("52")
    else:
        raise FormatError(
            "refPeriodId is a date (YYYYMMDD) that does not say whether it is a month or "
            "a year, and there is no freqCode or refMonth column",
            source=path,
            column="refPeriodId",
            expected="a period column, or freqCode/refMonth beside refPeriodId",
        )
    return ref.str[:6].mask(annual, ref.str[:4])


def _read(
    raw: RawTable,
    columns: dict[str, str],
    countries: dict[str, list[tuple[str, str]]],
    flows: dict[str, str],
    part_flows: tuple[str, ...],
    format: str,
    periods: pd.Series,
) -> ParsedFile:
    frame = raw.frame.assign(**{_PERIOD_TEXT: periods})
    present = dict(columns)
    for canonical, candidates in countries.items():
        present[canonical] = next(column for column, _ in candidates if column in frame)
    source = Source(raw.path, present)
    sources = [source]
    coords = coordinates(frame)
    flow, part = map_codes(
        frame, present["flow"], flows, sources, what="flow", label="flow", ignored=part_flows
    )
    reporter, reporter_aggregate = map_countries(
        frame, countries["reporter"], sources, label="reporter"
    )
    partner, partner_aggregate = map_countries(
        frame, countries["partner"], sources, label="partner"
    )
    # Part flows and aggregate partners are left out, breakdowns or not; the breakdowns
    # of the other rows are resolved per key (anomaly.io.breakdowns).
    inside = ~(part | reporter_aggregate | partner_aggregate)
    rows = frame.loc[inside]
    keys = pd.DataFrame(
        {
            "period": periods_column(rows[_PERIOD_TEXT], rows, sources),
            "reporter": reporter.loc[inside],
            "partner": partner.loc[inside],
            "flow": flow.loc[inside],
            "hs": hs_codes(rows, present["hs"], sources),
        }
    )
    key = combine_codes([pd.factorize(keys[column])[0] for column in KEY_COLUMNS])
    inner = coords.take(inside)
    plan = plan_breakdowns(key, inner)
    outside = (part, reporter_aggregate, partner_aggregate)
    dropped = list(raw.dropped) + _dropped(frame, coords, inside, plan, outside, source)
    keep = ~(plan.covered | plan.overlapping)
    rows, keys, key, inner = rows.loc[keep], keys.loc[keep], key[keep], inner.take(keep)
    summed, duplicated = plan.summed[keep], plan.duplicated[keep]
    numbers = {
        canonical: parse_numbers(rows, present[canonical], sources, required=False, label=canonical)
        for canonical in ("value", "value_fob", "value_cif", "quantity", "weight_kg")
        if present[canonical] in rows
    }
    typed = pd.DataFrame(
        {
            **keys,
            "value": _value(rows, keys["flow"], numbers, sources),
            **{name: numbers[name] for name in numbers if name != "value"},
            LINE: rows[LINE],
        }
    )
    aggregated: list[dict[str, object]] = []
    if summed.any():
        if duplicated.any():
            shown = [column for names in inner.columns for column in names]
            raise duplicate_error(
                typed.assign(**{column: rows[column] for column in shown}),
                combine_codes([key, *inner.codes.T]),
                duplicated,
                sources,
                [*KEY_COLUMNS, *shown],
            )
        check_negative(typed.loc[summed], sources)
        unit = next((column for column in _UNIT_COLUMNS if column in rows), None)
        totals = sum_rows(
            typed.loc[summed],
            key[summed],
            [column for column in NUMBER_COLUMNS if column in typed],
            units=text_column(rows.loc[summed, unit]).to_numpy() if unit else None,
        )
        typed = pd.concat([typed.loc[~summed], totals])
        aggregated = summary(inner, key, summed, rows[LINE].to_numpy(), raw.path)
        _log_sums(raw.path, aggregated, len(np.unique(key[summed])))
    return ParsedFile(typed, source, format, CURRENCY, dropped, aggregated)


def _dropped(
    frame: pd.DataFrame,
    coords: Coordinates,
    inside: np.ndarray,
    plan: BreakdownPlan,
    outside: tuple[np.ndarray, np.ndarray, np.ndarray],
    source: Source,
) -> list[Dropped]:
    """The records of the rows left out, each row in the first record that applies.

    ``outside`` holds the masks of part flows, aggregate reporters and aggregate
    partners: their rows are left out for that reason, breakdowns or not.
    """
    part, reporter_aggregate, partner_aggregate = outside
    covered = np.zeros(len(frame), dtype=bool)
    covered[inside] = plan.covered
    overlapping = np.zeros(len(frame), dtype=bool)
    overlapping[inside] = plan.overlapping
    dropped = []
    if covered.any():
        kinds = ", ".join(coords.kinds(covered))
        dropped.append(Dropped.of(f"a breakdown below the total ({kinds})", frame, covered))
    if overlapping.any():
        kinds = ", ".join(coords.kinds(overlapping))
        record = Dropped.of(
            f"a breakdown ({kinds}) overlapping another breakdown of the same key, summed "
            "instead for want of a total row: summing both would count the trade twice",
            frame,
            overlapping,
        )
        logger.warning(
            "%s: left out %d breakdown row(s) (%s) that overlap another breakdown summed "
            "for the same key, e.g. line %d",
            source.name,
            record.rows,
            kinds,
            record.lines[0],
        )
        dropped.append(record)
    if part.any():
        names = ", ".join(pd.unique(frame.loc[part, source.column("flow")].astype(object)))
        dropped.append(
            Dropped.of(f"flow {names}: a part of the export or import flows", frame, part)
        )
    dropped += aggregate_drops(
        frame,
        reporter_aggregate & ~part,
        partner_aggregate & ~part,
        source.column("reporter"),
        source.column("partner"),
    )
    return dropped


def _log_sums(path: str, records: list[dict[str, object]], keys: int) -> None:
    """Say in the log which breakdowns were summed for keys without a total row."""
    rows = sum(int(str(record["rows"])) for record in records)
    parts = "; ".join(
        f"by {' and '.join(map(str, record['dimensions']))}: {record['rows']} rows "
        f"of {record['keys']} keys"
        for record in records
    )
    logger.warning(
        "%s: %d key(s) (period, reporter, partner, flow, hs) have no total row; their %d "
        "breakdown rows were summed into one row per key (%s)",
        path,
        keys,
        rows,
        parts,
    )


def _value(
    frame: pd.DataFrame,
    flow: pd.Series,
    numbers: dict[str, pd.Series],
    sources: list[Source],
) -> pd.Series:
    """FOB for exports, CIF for imports, else the record's own trade value."""
    missing = pd.Series(np.nan, index=frame.index)
    fob, cif = numbers.get("value_fob", missing), numbers.get("value_cif", missing)
    preferred = fob.where(flow.isin(OUTWARD_FLOWS), cif)
    value = preferred.fillna(numbers["value"])
    if value.isna().any():
        raise error_at(
            InvalidValueError,
            f"{value.isna().sum()} row(s) have no trade value "
            "(FOB or CIF as the flow needs, nor the total trade value)",
            frame,
            value.isna().to_numpy(),
            sources,
            column="value",
            expected="a number in the trade value column",
        )
    return value
