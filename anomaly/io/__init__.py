"""Read and validate trade statistics into the canonical flows table.

:func:`read_flows` reads canonical CSV/Parquet files, Eurostat Comext extracts,
"relational view" downloads and bulk files, and UN Comtrade legacy and API files;
:func:`validate_flows` checks a DataFrame that is already in canonical columns.
Both return the table described in :mod:`anomaly.schema`, sorted by key, with
``attrs`` for the currency, the sources, HS overlaps and the rows left out.

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
from anomaly.io.detect import FORMATS
from anomaly.io.read import read_flows
from anomaly.io.validate import VALUATION_COLUMNS, validate_flows

__all__ = ["FORMATS", "TOTAL_HS", "VALUATION_COLUMNS", "read_flows", "validate_flows"]
