"""Read and validate trade statistics into the canonical flows table.

:func:`read_flows` reads canonical CSV/Parquet files, Eurostat Comext extracts,
"relational view" downloads and bulk files, and UN Comtrade legacy and API files;
:func:`validate_flows` checks a DataFrame that is already in canonical columns;
:func:`convert_currency` converts a table's amounts into another currency.
Both return the table described in :mod:`anomaly.schema`, sorted by key, with
``attrs`` for the currency, the sources, HS overlaps and the rows left out.

The checks they are built from are public too, for readers that stream a file in
batches (:mod:`anomaly.batch`): :func:`detect_format`, :func:`check_flows` and the
column checks, :class:`Source` (file and line of each row, for messages), and the key
coders :func:`combine_codes` and :func:`sorted_factorize`.

Examples
--------
>>> import pandas as pd
>>> from anomaly.io import validate_flows
>>> flows = validate_flows(pd.DataFrame({"period": ["2022-01"], "reporter": ["DEU"],
...     "partner": ["KGZ"], "flow": ["export"], "hs": ["854231"], "value": [1.5e6]}))
>>> flows.dtypes["period"]
period[M]
"""

from anomaly.io.codes import TOTAL_HS
from anomaly.io.exchange import CURRENCY_CONVERSION, convert_currency, read_exchange_rates
from anomaly.io.formats import AUTO, FORMAT_CHOICES, FORMATS, detect_format
from anomaly.io.keys import combine_codes, sorted_factorize
from anomaly.io.origin import FILE, LINE, Source
from anomaly.io.read import DIRECTORY_SUFFIXES, check_links, count_rows, data_files, read_flows
from anomaly.io.validate import (
    VALUATION_COLUMNS,
    canonical_columns,
    check_flows,
    check_negative,
    currency_column,
    period_column,
    validate_flows,
)

__all__ = [
    "AUTO",
    "CURRENCY_CONVERSION",
    "DIRECTORY_SUFFIXES",
    "FILE",
    "FORMATS",
    "FORMAT_CHOICES",
    "LINE",
    "TOTAL_HS",
    "VALUATION_COLUMNS",
    "Source",
    "canonical_columns",
    "check_flows",
    "check_links",
    "check_negative",
    "combine_codes",
    "convert_currency",
    "count_rows",
    "currency_column",
    "data_files",
    "detect_format",
    "period_column",
    "read_exchange_rates",
    "read_flows",
    "sorted_factorize",
    "validate_flows",
]
