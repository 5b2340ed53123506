"""What a traded good is, in the two columns every output carries beside its HS code:
its description and its tier on the Common High Priority list."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from anomaly.reference.chp import chp_list
from anomaly.reference.descriptions import hs_description

__all__ = ["GOODS_COLUMNS", "describe_goods"]

#: The columns :func:`describe_goods` gives (``leads.csv``, ``scores.parquet``).
GOODS_COLUMNS: tuple[str, ...] = ("description", "chp_tier")


def describe_goods(codes: Any, chp_version: str = "2024-02") -> pd.DataFrame:
    """Describe goods by their HS codes: words, and tier on a version of the CHP list.

    Each distinct code is looked up once, so millions of rows cost what their distinct
    codes cost.

    Parameters
    ----------
    codes : array-like of str
        HS codes as text (chapters, headings, subheadings, national extensions).
    chp_version : str, default "2024-02"
        Which CHP list gives the tier (:data:`~anomaly.reference.CHP_VERSIONS`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GOODS_COLUMNS`, one row per code in order (default index):
        ``description`` (:func:`~anomaly.reference.hs_description`) and ``chp_tier``
        (``"1"``, ``"2"``, ``"3.A"``, ... for a code whose first six digits are on the
        list); missing as ``None``.

    Examples
    --------
    >>> describe_goods(["85423190", "851712", "0101"])["chp_tier"].tolist()
    ['1', None, None]
    """
    text = pd.Series(np.asarray(codes, dtype=object)).astype(str)
    positions, distinct = pd.factorize(text)
    listed = chp_list(chp_version)
    tiers = dict(zip(listed["hs6"], listed["tier"], strict=True))
    found = {
        "description": hs_description(distinct).to_numpy(dtype=object),
        "chp_tier": pd.Series(distinct).str[:6].map(tiers).to_numpy(dtype=object),
    }
    # Missing as None (an empty cell in leads.csv), whichever NaN pandas gives; object
    # columns, or pandas 3 would store the texts as strings and the None as NaN again.
    return pd.DataFrame(
        {
            name: np.where(pd.isna(values), None, values)[positions]
            for name, values in found.items()
        },
        dtype=object,
    )
