"""Read Eurostat Comext bulk files (``full202301.dat`` and the like, CSV layout).

Columns, as Eurostat documents them: ``DECLARANT, DECLARANT_ISO, PARTNER, PARTNER_ISO,
TRADE_TYPE, PRODUCT_NC, PRODUCT_SITC, PRODUCT_CPA2002, PRODUCT_CPA2008, PRODUCT_CPA2_1,
PRODUCT_BEC, PRODUCT_BEC5, PRODUCT_SECTION, FLOW, STAT_REGIME, SUPP_UNIT, PERIOD,
VALUE_IN_EUROS, QUANTITY_IN_KG, SUP_QUANTITY``. Only the ones used are required.

Decisions:

- Countries: the alpha-2 ``*_ISO`` columns where filled, else Eurostat's GEO numbers
  (``DECLARANT`` 3 digits, ``PARTNER`` 4 digits). Aggregate and non-country partners
  (``EU``, ``QU`` not specified, ``QQ`` stores and provisions, ``QX`` secret ...) are
  left out and recorded.
- ``FLOW``: 1 = import, 2 = export. ``PERIOD``: ``202301`` a month, ``202252`` the
  year 2022 (code 52).
- ``PRODUCT_NC``: CN8 or shorter digits are kept; ``TOTAL`` becomes
  :data:`~anomaly.io.TOTAL_HS`; Eurostat's codes for trade confidential at product
  level (two digits, three letters, three digits: ``27SSS271``) are not products and
  are left out and recorded.
- ``STAT_REGIME``: the regimes (1 normal, 2 inward processing, 3 outward processing,
  9 not recorded from customs declarations) split each flow, and bulk files publish
  no total over them, so the rows of one key are summed into one row (recorded). A
  total regime (``4`` in older files, or ``T``), where present, is kept instead of its
  parts, never added to them. Two rows of the same key and regime are duplicates.
- ``QUANTITY_IN_KG`` becomes ``weight_kg`` and ``SUP_QUANTITY`` ``quantity``; values EUR.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.errors import MAX_LISTED
from anomaly.io.codes import hs_codes, map_codes
from anomaly.io.countries import aggregate_drops, map_countries
from anomaly.io.keys import combine_codes, duplicate_error
from anomaly.io.origin import LINE, Source
from anomaly.io.parsed import Dropped, ParsedFile
from anomaly.io.periods import periods_column
from anomaly.io.rawtable import RawTable
from anomaly.io.text import distinct_text, text_column
from anomaly.io.validate import check_negative
from anomaly.io.values import parse_numbers
from anomaly.schema import KEY_COLUMNS

CURRENCY = "EUR"
FLOW_CODES = {"1": "import", "2": "export"}
REGIME_COLUMN = "STAT_REGIME"
TOTAL_REGIMES = ("4", "T", "TOTAL")
CONFIDENTIAL_PRODUCT = r"^\d{2}[A-Z]{3}\d{3}$"
_QUANTITIES = {"weight_kg": "QUANTITY_IN_KG", "quantity": "SUP_QUANTITY"}


def read_comext_bulk(raw: RawTable) -> ParsedFile:
    """Read a Comext bulk file; see the module notes for what is kept and summed."""
    frame = raw.frame
    columns = {
        "reporter": "DECLARANT_ISO" if "DECLARANT_ISO" in frame else "DECLARANT",
        "partner": "PARTNER_ISO" if "PARTNER_ISO" in frame else "PARTNER",
        "hs": "PRODUCT_NC",
        "flow": "FLOW",
        "period": "PERIOD",
        "value": "VALUE_IN_EUROS",
        **{canonical: column for canonical, column in _QUANTITIES.items() if column in frame},
    }
    source = Source(raw.path, columns)
    sources = [source]
    dropped = list(raw.dropped)
    codes, text = distinct_text(frame["PRODUCT_NC"])
    confidential = text.str.fullmatch(CONFIDENTIAL_PRODUCT).to_numpy(dtype=bool)[codes]
    if confidential.any():
        dropped.append(
            Dropped.of(
                "product code of trade confidential at product level (e.g. 27SSS271), "
                "not an HS code",
                frame,
                confidential,
            )
        )
        frame = frame.loc[~confidential]
    reporter, reporter_aggregate = map_countries(
        frame,
        [("DECLARANT_ISO", "alpha2"), ("DECLARANT", "eurostat_geo")],
        sources,
        label="reporter",
    )
    partner, partner_aggregate = map_countries(
        frame, [("PARTNER_ISO", "alpha2"), ("PARTNER", "eurostat_geo")], sources, label="partner"
    )
    dropped += aggregate_drops(
        frame, reporter_aggregate, partner_aggregate, columns["reporter"], columns["partner"]
    )
    keep = ~(reporter_aggregate | partner_aggregate)
    frame = frame.loc[keep]
    flow, _ = map_codes(frame, "FLOW", FLOW_CODES, sources, what="flow", label="flow")
    typed = pd.DataFrame(
        {
            "period": periods_column(frame["PERIOD"], frame, sources),
            "reporter": reporter.loc[keep],
            "partner": partner.loc[keep],
            "flow": flow,
            "hs": hs_codes(frame, "PRODUCT_NC", sources),
            "value": parse_numbers(frame, "VALUE_IN_EUROS", sources, required=True, label="value"),
            **{
                canonical: parse_numbers(frame, column, sources, required=False, label=canonical)
                for canonical, column in _QUANTITIES.items()
                if column in frame
            },
            LINE: frame[LINE],
        }
    )
    check_negative(typed, sources)
    if REGIME_COLUMN in frame:
        typed = typed.assign(**{REGIME_COLUMN: text_column(frame[REGIME_COLUMN]).str.upper()})
        typed, more = _one_row_per_key(typed, sources)
        dropped += more
    return ParsedFile(typed, source, "comext-bulk", CURRENCY, dropped)


def _one_row_per_key(
    typed: pd.DataFrame, sources: list[Source]
) -> tuple[pd.DataFrame, list[Dropped]]:
    """Keep a regime total where published, else sum the regimes of each key."""
    key = combine_codes([pd.factorize(typed[column])[0] for column in KEY_COLUMNS])
    regime = pd.factorize(typed[REGIME_COLUMN])[0]
    with_regime = combine_codes([key, regime])
    duplicated = pd.Series(with_regime).duplicated(keep=False).to_numpy()
    if duplicated.any():
        raise duplicate_error(
            typed, with_regime, duplicated, sources, (*KEY_COLUMNS, REGIME_COLUMN)
        )
    dropped = []
    total = typed[REGIME_COLUMN].isin(TOTAL_REGIMES).to_numpy()
    beside_total = ~total & np.isin(key, key[total])
    if beside_total.any():
        dropped.append(
            Dropped.of(
                "statistical regime beside the regime total (a part of it)", typed, beside_total
            )
        )
        typed, key = typed.loc[~beside_total], key[~beside_total]
    typed = typed.drop(columns=REGIME_COLUMN)
    repeated = pd.Series(key).duplicated(keep=False).to_numpy()
    if not repeated.any():
        return typed, dropped
    dropped.append(
        Dropped(
            "statistical regimes of one key summed into one row (the first line is kept)",
            int(repeated.sum() - len(np.unique(key[repeated]))),
            tuple(int(line) for line in np.sort(typed[LINE].to_numpy()[repeated])[:MAX_LISTED]),
        )
    )
    grouped = typed.groupby(key, sort=False)
    numbers = [column for column in typed.columns if column not in (*KEY_COLUMNS, LINE)]
    summed = grouped[list(KEY_COLUMNS)].first().join(grouped[numbers].sum(min_count=1))
    summed[LINE] = grouped[LINE].min()
    return summed.reset_index(drop=True), dropped
