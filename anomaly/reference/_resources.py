"""Read the CSV tables shipped in ``anomaly/reference/data``.

Every table is read once per process and kept; the public loaders hand out copies, so
the cached frame is never exposed to callers.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

__all__ = ["read_table"]


@cache
def read_table(name: str) -> pd.DataFrame:
    """Return the cached table ``data/<name>`` with every column as text.

    Only empty fields are missing: ``keep_default_na=False`` keeps Namibia's alpha-2
    code ``NA`` (and any other literal "NA"/"NULL") as text.
    """
    source = resources.files("anomaly.reference").joinpath("data", name)
    with source.open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False, na_values=[""])
