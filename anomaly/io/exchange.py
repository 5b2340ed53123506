"""Convert a flows table into another currency with exchange rates.

A model is trained on values in one currency and reads every amount on that scale:
data in another currency must be converted before they are scored
(:meth:`anomaly.model.TradeAnomalyModel.check_currency` refuses them otherwise).
:func:`convert_currency` does it with one rate for every month, or with a monthly
table (:func:`read_exchange_rates` reads one from a CSV file). Quantities and weights
are not money and stay as they are.
"""

from __future__ import annotations

import math
import os
from numbers import Real

import numpy as np
import pandas as pd

from anomaly.errors import (
    CurrencyError,
    EmptyDataError,
    FormatError,
    InvalidValueError,
    PeriodError,
    describe_items,
)
from anomaly.io.periods import EXPECTED as EXPECTED_PERIOD
from anomaly.io.periods import parse_periods
from anomaly.io.validate import VALUATION_COLUMNS
from anomaly.schema import CURRENCIES, VALUE_COLUMN

__all__ = [
    "CURRENCY_CONVERSION",
    "MONEY_COLUMNS",
    "RATE_COLUMNS",
    "convert_currency",
    "read_exchange_rates",
]

#: The columns that hold amounts of money (the others hold quantities and keys).
MONEY_COLUMNS: tuple[str, ...] = (VALUE_COLUMN, *VALUATION_COLUMNS)
#: The columns of a table of monthly rates.
RATE_COLUMNS: tuple[str, ...] = ("period", "rate")
#: The ``attrs`` key (and ``run.json`` key) that records a conversion.
CURRENCY_CONVERSION = "currency_conversion"
#: What a table of rates given as a DataFrame is called in messages and records.
FRAME_SOURCE = "<DataFrame of rates>"
MONTHLY = pd.PeriodDtype("M")

Rates = float | pd.DataFrame | str | os.PathLike


def convert_currency(flows: pd.DataFrame, to: str, rates: Rates) -> pd.DataFrame:
    """The flows with every amount converted into currency ``to``.

    Parameters
    ----------
    flows : pandas.DataFrame
        A canonical flows table (:func:`~anomaly.io.read_flows`) whose currency is
        known (``attrs["currency"]``; declare it with ``read_flows(currency=...)``).
        It is not changed.
    to : {"EUR", "USD"}
        The currency to convert into (a model's ``currency_``).
    rates : float, pandas.DataFrame or path
        Units of ``to`` per unit of the data's currency: one positive number for every
        month, or a table of monthly rates with columns ``period`` (``2022-01``, or
        any spelling :func:`~anomaly.io.read_flows` reads) and ``rate``, as a
        DataFrame or a CSV file (:func:`read_exchange_rates`). Every period in the
        data must have a rate; rates of other periods are ignored.

    Returns
    -------
    pandas.DataFrame
        A new table: ``value`` (and ``value_fob``, ``value_cif`` where present) times
        the period's rate; ``attrs["currency"]`` is ``to`` and
        ``attrs["currency_conversion"]`` records ``from``, ``to`` and ``rates`` (the
        number, or the file the table was read from).

    Raises
    ------
    CurrencyError
        The data's currency is unknown, ``to`` is not supported, or the data are in
        ``to`` already (a rate would change amounts that need no conversion).
    InvalidValueError
        A rate that is not a positive, finite number (the row is named).
    PeriodError
        A period of the data has no rate (the first missing are named), or a rates
        table's period cannot be parsed or is given twice.
    FormatError
        A rates file or table without a ``period`` or ``rate`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from anomaly.io import validate_flows
    >>> flows = validate_flows(pd.DataFrame({"period": ["2022-01", "2022-02"],
    ...     "reporter": "USA", "partner": "KAZ", "flow": "export", "hs": "854231",
    ...     "value": [100.0, 200.0], "currency": "USD"}))
    >>> euros = convert_currency(flows, "EUR", 0.9)
    >>> euros["value"].tolist(), euros.attrs["currency"], flows["value"].tolist()
    ([90.0, 180.0], 'EUR', [100.0, 200.0])
    >>> euros.attrs["currency_conversion"]
    {'from': 'USD', 'to': 'EUR', 'rates': 0.9}
    >>> monthly = pd.DataFrame({"period": ["2022-01", "2022-02"], "rate": [0.9, 0.8]})
    >>> convert_currency(flows, "EUR", monthly)["value"].tolist()
    [90.0, 160.0]
    """
    if to not in CURRENCIES:
        raise CurrencyError(
            f"cannot convert into {to!r}", expected=f"one of {', '.join(CURRENCIES)}"
        )
    source = flows.attrs.get("currency")
    if not source:
        raise CurrencyError(
            "the data's currency is unknown, so it cannot be converted",
            expected="a currency column, read_flows(currency=...) or --currency naming it",
        )
    if source == to:
        raise CurrencyError(
            f"the data are in {to} already: there is nothing to convert",
            expected="no exchange rate for data in the currency asked for",
        )
    if isinstance(rates, Real) and not isinstance(rates, bool):
        factor = _one_rate(float(rates))
        record: float | str = float(rates)
    else:
        table = rates if isinstance(rates, pd.DataFrame) else read_exchange_rates(rates)
        name = table.attrs.get("source", FRAME_SOURCE)
        factor = _rate_per_row(flows["period"], _rates_series(table, name), name)
        record = name
    # A whole copy: a shallow one would share the other columns' arrays, and without
    # pandas' copy-on-write (pandas 2) a later edit of the result would change the user's.
    converted = flows.copy()
    for column in MONEY_COLUMNS:
        if column in converted:
            converted[column] = converted[column].to_numpy(dtype=np.float64) * factor
    converted.attrs = {
        **flows.attrs,
        "currency": to,
        CURRENCY_CONVERSION: {"from": source, "to": to, "rates": record},
    }
    return converted


def read_exchange_rates(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV file of monthly exchange rates (columns ``period``, ``rate``).

    Parameters
    ----------
    path : str or path
        A CSV file, one row per month: ``period`` (``2022-01``, ``202201``, ...) and
        ``rate`` (units of the target currency per unit of the data's currency).
        Other columns are ignored.

    Returns
    -------
    pandas.DataFrame
        ``period`` and ``rate`` as read (text), with ``attrs["source"]`` the path; the
        values are checked by :func:`convert_currency`.

    Raises
    ------
    FileNotFoundError
        No such file.
    FormatError
        The file is not a CSV table with ``period`` and ``rate`` columns.
    EmptyDataError
        The file has no rows.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "usd_eur.csv")
    ...     with open(path, "w") as file:
    ...         _ = file.write("period,rate\\n2022-01,0.88\\n2022-02,0.89\\n")
    ...     read_exchange_rates(path)["rate"].tolist()
    ['0.88', '0.89']
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"no such file: {name!r}")
    try:
        table = pd.read_csv(name, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise EmptyDataError(
            "the exchange-rate file is empty", source=name, expected="a header period,rate"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise FormatError(
            f"the exchange-rate file cannot be read as CSV ({str(error).strip()})",
            source=name,
            expected="a CSV table with columns period and rate",
        ) from None
    table.columns = [str(column).strip().lower() for column in table.columns]
    _check_columns(table, name)
    if table.empty:
        raise EmptyDataError(
            "the exchange-rate file has no rows", source=name, expected="one row per month"
        )
    table = table[list(RATE_COLUMNS)]
    table.attrs["source"] = name
    return table


def _check_columns(table: pd.DataFrame, name: str) -> None:
    for column in RATE_COLUMNS:
        if column not in table.columns:
            found = ", ".join(map(str, table.columns)) or "none"
            raise FormatError(
                f"no {column!r} column (columns: {found})",
                source=name,
                column=column,
                expected="columns period (e.g. 2022-01) and rate (e.g. 0.92)",
            )


def _one_rate(rate: float) -> float:
    if not math.isfinite(rate) or rate <= 0:
        raise InvalidValueError(
            f"exchange rate {rate!r} is not a positive number",
            expected="units of the model's currency per unit of the data's, e.g. 0.92",
        )
    return rate


def _rates_series(table: pd.DataFrame, name: str) -> pd.Series:
    """The table's rates indexed by period, every row checked (its line named)."""
    _check_columns(table, name)
    # Line numbers as in the file: the header is line 1.
    lines = np.arange(len(table)) + 2
    text = table["period"].astype(str).str.strip()
    ordinals, freqs = parse_periods(text.reset_index(drop=True))
    bad = freqs == ""
    if bad.any():
        raise PeriodError(
            f"period(s) {describe_items(map(repr, text[bad].unique()))} cannot be parsed",
            source=name,
            column="period",
            lines=lines[bad].tolist(),
            expected=EXPECTED_PERIOD,
        )
    if len(set(freqs)) > 1:
        raise PeriodError(
            "monthly and annual periods are mixed",
            source=name,
            column="period",
            lines=lines[freqs != freqs[0]].tolist(),
            expected="one frequency, that of the data",
        )
    rate = pd.to_numeric(table["rate"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(rate) | (rate <= 0)
    if bad.any():
        values = table["rate"].astype(str).to_numpy()[bad]
        raise InvalidValueError(
            f"rate(s) {describe_items(map(repr, values))} are not positive numbers",
            source=name,
            column="rate",
            lines=lines[bad].tolist(),
            expected="units of the model's currency per unit of the data's, e.g. 0.92",
        )
    periods = pd.PeriodIndex.from_ordinals(ordinals, freq=freqs[0])
    twice = periods.duplicated(keep=False)
    if twice.any():
        raise PeriodError(
            f"period(s) {describe_items(periods[twice].unique().astype(str))} have more "
            "than one rate",
            source=name,
            column="period",
            lines=lines[twice].tolist(),
            expected="one rate per period",
        )
    return pd.Series(rate, index=periods)


def _rate_per_row(periods: pd.Series, rates: pd.Series, name: str) -> np.ndarray:
    """The rate of each row's period; every period of the data must have one."""
    if rates.index.dtype != periods.dtype:
        kind = {True: "monthly", False: "annual"}
        raise PeriodError(
            f"the rates are {kind[rates.index.dtype == MONTHLY]}, the data "
            f"{kind[periods.dtype == MONTHLY]}",
            source=name,
            column="period",
            expected="a rate for each period of the data, at the data's frequency",
        )
    distinct = pd.PeriodIndex(periods.unique()).sort_values()
    missing = distinct[~distinct.isin(rates.index)]
    if len(missing):
        raise PeriodError(
            f"no exchange rate for {len(missing)} period(s) of the data: "
            f"{describe_items(missing.astype(str))}",
            source=name,
            column="period",
            expected=f"a rate for every period of the data, {distinct[0]}..{distinct[-1]}",
        )
    return rates.reindex(pd.PeriodIndex(periods)).to_numpy(dtype=np.float64)
