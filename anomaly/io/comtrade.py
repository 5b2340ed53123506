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
- Breakdowns are read at their totals only: ``partner2ISO`` W00 (``partner2Code`` 0),
  ``motCode``/``mot_code`` 0, ``customsCode`` C00, ``mosCode`` 0 where these columns
  exist; rows of other values are left out and recorded.
- ``cmdCode`` ``TOTAL`` becomes hs :data:`~anomaly.io.TOTAL_HS`.
- API ``refPeriodId`` is ``YYYYMMDD``: ``freqCode`` (A/M) or ``refMonth`` (52 = year)
  says whether it is a month or a year; without either the file is refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.errors import FormatError, InvalidValueError
from anomaly.io.codes import hs_codes, map_codes
from anomaly.io.countries import aggregate_drops, map_countries
from anomaly.io.origin import LINE, Source, error_at
from anomaly.io.parsed import Dropped, ParsedFile
from anomaly.io.periods import periods_column
from anomaly.io.rawtable import RawTable
from anomaly.io.text import distinct_text, text_column
from anomaly.io.values import parse_numbers

CURRENCY = "USD"
LEGACY_FLOWS = {
    "Export": "export",
    "Import": "import",
    "Re-export": "re-export",
    "Re-import": "re-import",
}
API_FLOWS = {"X": "export", "M": "import", "RX": "re-export", "RM": "re-import"}
API_PART_FLOWS = ("DX", "FM", "MIP", "XIP", "MOP", "XOP")
#: Breakdown columns read at their total only: column -> (total codes, what it breaks down).
TOTAL_BREAKDOWNS = {
    "partner2ISO": (("W00", "WLD"), "second partner"),
    "partner2Code": (("0",), "second partner"),
    "motCode": (("0",), "mode of transport"),
    "mot_code": (("0",), "mode of transport"),
    "customsCode": (("C00",), "customs procedure"),
    "mosCode": (("0",), "mode of supply"),
}
_EXPORTS = ("export", "re-export")
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
    dropped = list(raw.dropped)
    breakdowns, kinds = _breakdowns(frame)
    if breakdowns.any():
        dropped.append(
            Dropped.of(f"a breakdown below the total ({', '.join(kinds)})", frame, breakdowns)
        )
        frame = frame.loc[~breakdowns]
    flow, part = map_codes(
        frame, present["flow"], flows, sources, what="flow", label="flow", ignored=part_flows
    )
    if part.any():
        names = ", ".join(pd.unique(frame.loc[part, present["flow"]].astype(object)))
        dropped.append(
            Dropped.of(f"flow {names}: a part of the export or import flows", frame, part)
        )
        frame, flow = frame.loc[~part], flow.loc[~part]
    reporter, reporter_aggregate = map_countries(
        frame, countries["reporter"], sources, label="reporter"
    )
    partner, partner_aggregate = map_countries(
        frame, countries["partner"], sources, label="partner"
    )
    dropped += aggregate_drops(
        frame, reporter_aggregate, partner_aggregate, present["reporter"], present["partner"]
    )
    keep = ~(reporter_aggregate | partner_aggregate)
    frame, flow = frame.loc[keep], flow.loc[keep]
    numbers = {
        canonical: parse_numbers(
            frame, present[canonical], sources, required=False, label=canonical
        )
        for canonical in ("value", "value_fob", "value_cif", "quantity", "weight_kg")
        if present[canonical] in frame
    }
    typed = pd.DataFrame(
        {
            "period": periods_column(frame[_PERIOD_TEXT], frame, sources),
            "reporter": reporter.loc[keep],
            "partner": partner.loc[keep],
            "flow": flow,
            "hs": hs_codes(frame, present["hs"], sources),
            "value": _value(frame, flow, numbers, sources),
            **{name: numbers[name] for name in numbers if name != "value"},
            LINE: frame[LINE],
        }
    )
    return ParsedFile(typed, source, format, CURRENCY, dropped)


def _breakdowns(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Rows of a breakdown column with a value other than its total, and the breakdowns."""
    below = np.zeros(len(frame), dtype=bool)
    kinds: list[str] = []
    for column, (totals, kind) in TOTAL_BREAKDOWNS.items():
        if column not in frame:
            continue
        codes, text = distinct_text(frame[column])
        # A blank cell says nothing: the row is judged by the other columns.
        text = text.str.upper()
        rows = ~(text.isin(totals) | (text == "")).to_numpy()[codes]
        if rows.any() and kind not in kinds:
            kinds.append(kind)
        below |= rows
    return below, kinds


def _value(
    frame: pd.DataFrame,
    flow: pd.Series,
    numbers: dict[str, pd.Series],
    sources: list[Source],
) -> pd.Series:
    """FOB for exports, CIF for imports, else the record's own trade value."""
    missing = pd.Series(np.nan, index=frame.index)
    fob, cif = numbers.get("value_fob", missing), numbers.get("value_cif", missing)
    preferred = fob.where(flow.isin(_EXPORTS), cif)
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
