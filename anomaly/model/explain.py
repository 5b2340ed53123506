"""One-line, human explanations of leads, e.g.

``DEU→KGZ 854231: €1.7M in 2022 vs €60k expected (90% band €30k–€110k), 28×;
mirror gap 64% (€1.1M declared shipped, not received); KGZ→RUS exports of 854231 up 40×``

and, for a flow with no trade in the training window (when that window is named),
``DEU→KAZ 880730: €1.2M in 2022, none in 2020-01..2021-12``: its counterfactual is a
prior for flows without history, and a multiple of it says nothing.

Written for whole columns at once (a batch run explains millions of series): numbers
are rounded with numpy, turned into text and joined by Arrow's compute kernels; no
Python call per lead. A piece of text that does not apply to a lead is null, and
nulls join as nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anomaly.money import EXPLANATION
from anomaly.reference import chp_list, describe_goods
from anomaly.schema import OUTWARD_FLOWS

#: Demand factors and mirror gaps smaller than this are not worth a line.
MATERIAL_SHARE = 0.05
#: Longest name of a good off the CHP list in an explanation (its description's start).
GOOD_NAME_CHARS = 40
#: Unit suffixes of :func:`money` and their sizes.
_UNITS = EXPLANATION.suffixes
_LIMITS = 1000.0 ** np.arange(len(_UNITS))
#: Whole numbers beyond this are formatted by Python (int64 and exact float integers end).
_EXACT = 2.0**53
#: The text of any number an explanation lacks, amounts included.
MISSING = EXPLANATION.missing
_ONE = Decimal(1)
#: Numeric columns :func:`explanations` reads.
_NUMERIC = (
    "actual",
    "expected",
    "lower",
    "upper",
    "demand_factor",
    "mirror_gap",
    "not_received",
    "onward_ratio",
    "direct_drop",
)
#: Every column :func:`explanations` reads.
EXPLAINED_COLUMNS = ("reporter", "partner", "flow", "hs", "hub", "history_note", *_NUMERIC)
#: Columns it reads where the leads have them (a model saved before the baseline
#: detector has no baseline columns, one saved before the regularity detector no
#: ``months_traded``; leads of a release before 0.3 no ``months_read``, the months
#: ``months_traded`` counts when they are not all ``n_months``).
OPTIONAL_COLUMNS = (
    "baseline_ratio",
    "baseline_value",
    "months_traded",
    "months_read",
    "n_months",
    "trained_nonzero",
    "trained_months",
)
#: Text columns it reads where the leads have them (``onward_to``, the destination of
#: a hub's onward leg, is named where given; else the leg reads as "RUS/BLR").
OPTIONAL_TEXT = ("onward_to",)


def money(values, currency: str | None) -> pa.Array:
    """Human-readable amounts: ``€1.7M``, ``$61M``, ``€52k``; ``n/a`` when missing.

    Amounts are rounded to the nearest (ties to even) at the precision shown: whole
    units below a thousand, then one decimal below 10 of a unit and none above; an
    amount that rounds up into the next unit takes it (999,999 is ``€1.0M``).
    The text is that of the reference :func:`anomaly.money.format_money` in the
    :data:`anomaly.money.EXPLANATION` style, computed for a whole column at once.

    Parameters
    ----------
    values : array_like of float
    currency : str or None
        EUR and USD get their symbol; other currencies (or none) a bare number.

    Returns
    -------
    pyarrow.StringArray

    Examples
    --------
    >>> money([1_700_000, 61e6, 52_300, 950, float("nan")], "EUR").to_pylist()
    ['€1.7M', '€61M', '€52k', '€950', 'n/a']
    """
    value = np.asarray(values, dtype=float).ravel()
    size = np.abs(value)
    with np.errstate(invalid="ignore"):
        unit = np.zeros(value.shape, dtype=np.int64)
        for index in range(len(_UNITS) - 1):
            # Shown as 1000 or more of this unit: the next unit's turn.
            shown = _rounded(size, divisor=int(_LIMITS[index]))
            unit[(unit == index) & (shown >= 1000)] = index + 1
        scale = _LIMITS[unit]
        decimals = np.where((unit > 0) & (size < EXPLANATION.decimals_below * scale), 1, 0)
        digits = _rounded(size, divisor=(scale / 10.0**decimals).astype(np.int64))
    body = pc.if_else(pa.array(decimals == 1), _decimal(digits, 1), _whole(digits))
    suffix = pc.take(pa.array(_UNITS), pa.array(unit))
    sign = pa.array(np.where((value < 0) & (digits != 0), "-", ""))
    # EXPLANATION names no currency by its code: a currency without a symbol is left out.
    symbol = EXPLANATION.symbols.get(currency or "", "")
    text = _join(sign, symbol, body, suffix)
    return pc.if_else(pa.array(np.isfinite(value)), text, MISSING)


def explanations(
    leads: pd.DataFrame,
    flags: Mapping[str, np.ndarray],
    *,
    currency: str | None,
    window: str,
    train_window: str | None = None,
) -> np.ndarray:
    """One explanation per row of a leads table.

    Parameters
    ----------
    leads : pandas.DataFrame
        The columns :data:`EXPLAINED_COLUMNS`.
    flags : mapping of str to numpy.ndarray of bool
        The signals that fired on each row, as :meth:`anomaly.detect.Ensemble.signal_flags`
        gives them (``compliance_drop``, ``rerouting`` and ``new_flow`` change the text).
    currency : str or None
    window : str
        How the scoring window is named (``2022``, ``2022-03..2023-02``).
    train_window : str, optional
        How the training window is named (``2020-01..2021-12``). When given, a lead
        flagged ``new_flow`` (no trade in the training window) reads ``€1.2M in 2022,
        none in 2020-01..2021-12`` instead of a comparison with its counterfactual (and
        without the general-demand and "no trade before the war" parts, which only
        qualify that comparison); every other lead's text is unchanged. When None, new
        flows are explained like the other leads.

    Returns
    -------
    numpy.ndarray of str (object dtype)

    Examples
    --------
    >>> leads = pd.DataFrame({"reporter": ["DEU"], "partner": ["KAZ"], "flow": ["export"],
    ...     "hs": ["880730"], "hub": [None], "actual": [1.24e6], "expected": [2_900.0],
    ...     "lower": [30.0], "upper": [11_000.0], "demand_factor": [1.0],
    ...     "mirror_gap": [np.nan], "not_received": [np.nan], "onward_ratio": [np.nan],
    ...     "direct_drop": [np.nan]})
    >>> flags = {"new_flow": np.array([True])}
    >>> print(explanations(leads, flags, currency="EUR", window="2022")[0])  # doctest: +ELLIPSIS
    DEU→KAZ 880730: €1.2M in 2022 vs €2.9k expected (90% band €30–€11k), 428×; no trade ...
    >>> explanations(leads, flags, currency="EUR", window="2022", train_window="2020–21")[0]
    'DEU→KAZ 880730: €1.2M in 2022, none in 2020–21'
    """
    column = {name: _numbers(leads, name) for name in _NUMERIC}
    hs = _strings(leads["hs"])
    exported = leads["flow"].isin(OUTWARD_FLOWS).to_numpy()
    compliance = _flag(flags, len(leads), "compliance_drop")
    lead = ~compliance
    actual, expected = column["actual"], column["expected"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = actual / expected
    fall = np.where(expected > 0, 1 - ratio, 0.0)
    outcome = pc.if_else(
        pa.array(compliance),
        _join(
            "down ",
            _percent(fall),
            ": direct trade with a sanctioned country fell (compliance, not a lead)",
        ),
        pc.if_else(
            pa.array(expected > 0), _join(_multiple(ratio), "×"), "no pre-war trade expected"
        ),
    )
    demand, gap = column["demand_factor"], column["mirror_gap"]
    onward, drop = column["onward_ratio"], column["direct_drop"]
    hub = _strings(leads["hub"])
    onward_to = pc.fill_null(
        _strings(leads["onward_to"]) if "onward_to" in leads else pa.nulls(len(leads), pa.string()),
        "RUS/BLR",
    )
    good = _strings(leads["good"]) if "good" in leads else pa.nulls(len(leads), pa.string())
    new_flow = lead & _flag(flags, len(leads), "new_flow")
    # A new flow's counterfactual is the prior of flows without history: when the
    # training window can be named, the plain fact replaces the comparison with it.
    plain = new_flow if train_window is not None else np.zeros(len(leads), dtype=bool)
    # A series whose history is not in the data has no counterfactual worth showing.
    note = (
        _strings(leads["history_note"])
        if "history_note" in leads
        else pa.nulls(len(leads), pa.string())
    )
    unknown = pc.is_valid(note).to_numpy(zero_copy_only=False)
    plain = plain | unknown
    optional = {
        name: _numbers(leads, name) if name in leads else np.full(len(leads), np.nan)
        for name in OPTIONAL_COLUMNS
    }
    rose_from = unknown & np.isfinite(optional["baseline_ratio"])
    gap_shown = lead & (gap >= MATERIAL_SHARE)
    drop_shown = lead & _flag(flags, len(leads), "rerouting") & (drop > 0)
    from_nothing = unknown & (optional["baseline_value"] == 0) & (actual > 0)
    onward_shown = lead & pc.is_valid(hub).to_numpy(zero_copy_only=False) & np.isfinite(onward)
    counted = np.where(
        np.isfinite(optional["months_read"]), optional["months_read"], optional["n_months"]
    )
    from_onset = counted < optional["n_months"]
    now = _share(optional["months_traded"], counted)
    before = _share(optional["trained_nonzero"], optional["trained_months"])
    # How often it trades is said where it signalled, and where it trades more often
    # than before into a hub whose onward leg is shown (the re-routing reading counts it).
    regular = (
        lead
        & ~plain
        & (_flag(flags, len(leads), "regular_trade") | (onward_shown & (now > before)))
    )
    compared = _join(
        " vs ",
        money(expected, currency),
        " expected (90% band ",
        money(column["lower"], currency),
        "–",
        money(column["upper"], currency),
        "), ",
        outcome,
    )
    pieces = [
        _strings(leads["reporter"]),
        pa.array(np.where(exported, "→", "←")),
        _strings(leads["partner"]),
        " ",
        hs,
        _join(" (", good, ")"),
        ": ",
        money(actual, currency),
        f" in {window}",
        _where(~plain, compared),
        _where(plain & ~unknown, f", none in {train_window}"),
        _where(unknown, _join("; ", note)),
        _where(
            rose_from,
            _join(
                "; against its months before the sanctions (",
                _money_where(rose_from, optional["baseline_value"], currency),
                " a month): ",
                _change(optional["baseline_ratio"]),
            ),
        ),
        _where(from_nothing, "; none in its months before the sanctions"),
        _where(
            lead & ~plain & (np.abs(demand - 1.0) >= MATERIAL_SHARE),
            _join(
                "; general demand ×", _decimal(_rounded(demand, multiplier=100), 2), " factored in"
            ),
        ),
        _where(
            gap_shown,
            _join(
                "; mirror gap ",
                _percent(gap),
                " (",
                _money_where(gap_shown, column["not_received"], currency),
                " declared shipped, not received)",
            ),
        ),
        _where(
            onward_shown,
            _join("; ", hub, "→", onward_to, " exports of ", hs, " ", _change(onward)),
        ),
        _where(
            drop_shown,
            _join("; direct exports to RUS/BLR fell by ", _money_where(drop_shown, drop, currency)),
        ),
        _where(new_flow & ~plain, "; no trade before the war"),
        _where(
            regular,
            _join(
                "; traded in ",
                _whole(optional["months_traded"]),
                " of ",
                _whole(counted),
                np.where(from_onset, " months from the sanctions' onset", " months"),
                ", against ",
                _percent(before),
                " of its months before",
            ),
        ),
    ]
    return _join(*pieces, nulls=False).to_numpy(zero_copy_only=False)


def good_names(hs: pd.Series, chp_version: str) -> np.ndarray:
    """What each lead's good is called in its explanation.

    A good on the CHP list by its tier and the list's short label
    (``CHP tier 1: Electronic integrated circuits: other``), any other by the start of
    its HS description (at most :data:`GOOD_NAME_CHARS` characters); None if unknown.

    Parameters
    ----------
    hs : pandas.Series of str
    chp_version : str
        The CHP list the tiers are of.

    Examples
    --------
    >>> good_names(pd.Series(["854239", "30049000"]), "2024-02").tolist()
    ['CHP tier 1: Electronic integrated circuits: other', 'Medicaments; consisting of mixed or...']
    """
    at, distinct = pd.factorize(hs.astype(str))
    goods = describe_goods(distinct, chp_version)
    listed = chp_list(chp_version)
    labels = pd.Series(distinct).str[:6].map(dict(zip(listed["hs6"], listed["label"], strict=True)))
    names = [
        f"CHP tier {tier}: {label}" if isinstance(label, str) else _clipped(words)
        for tier, label, words in zip(goods["chp_tier"], labels, goods["description"], strict=True)
    ]
    return np.asarray(names, dtype=object)[at]


def _clipped(text: object) -> str | None:
    """The first :data:`GOOD_NAME_CHARS` characters of ``text``, cut at a word."""
    if not isinstance(text, str):
        return None
    if len(text) <= GOOD_NAME_CHARS:
        return text
    return text[: GOOD_NAME_CHARS + 1].rsplit(" ", 1)[0].rstrip(" ,;") + "..."


def _change(ratio: np.ndarray) -> pa.Array:
    """``up 40×``, ``up 1.5×``, ``down 75%``."""
    return pc.if_else(
        pa.array(ratio >= 1),
        _join("up ", _multiple(ratio), "×"),
        _join("down ", _percent(1 - ratio)),
    )


def _multiple(ratio: np.ndarray) -> pa.Array:
    """A factor: whole from 10 up, one decimal below."""
    with np.errstate(invalid="ignore"):
        return pc.if_else(
            pa.array(ratio >= 10),
            _whole(_rounded(ratio)),
            _decimal(_rounded(ratio, multiplier=10), 1),
        )


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole``, ``NaN`` where ``whole`` is not positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / whole, np.nan)


def _percent(share: np.ndarray) -> pa.Array:
    """``64%``: a share as a whole percentage."""
    # As Python's "%" format: the share times 100 in floating point, then rounded.
    return _join(_whole(np.rint(share * 100)), "%")


def _rounded(
    values: np.ndarray, *, multiplier: int = 1, divisor: int | np.ndarray = 1
) -> np.ndarray:
    """``values * multiplier / divisor`` rounded to whole numbers, ties to even, as
    exact decimal arithmetic on the binary values rounds it (Python's ``f"{x:.1f}"``
    of ``values`` for ``multiplier=10``).

    Computed in floating point; where the result lands exactly on a half, the float
    operations may have made the tie (0.35 × 10 is 3.5, while the binary 0.35 is a
    little less), and exact decimal arithmetic decides.
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        scaled = values * multiplier / divisor
        rounded = np.rint(scaled)
        tie = np.abs(scaled - np.trunc(scaled)) == 0.5
    if tie.any():
        divisors = np.broadcast_to(divisor, values.shape)[tie]
        rounded[tie] = [
            float((Decimal(x) * multiplier / int(d)).quantize(_ONE, ROUND_HALF_EVEN))
            for x, d in zip(values[tie], divisors, strict=True)
        ]
    return rounded


def _decimal(scaled: np.ndarray, digits: int) -> pa.Array:
    """Text of ``scaled / 10**digits`` with ``digits`` decimals (``scaled`` whole)."""
    scaled = np.asarray(scaled, dtype=float)
    whole, fraction = np.divmod(np.abs(_integers(scaled)), 10**digits)
    text = _join(
        pa.array(np.where(scaled < 0, "-", "")),
        _whole(whole),
        ".",
        pc.utf8_lpad(_whole(fraction), width=digits, padding="0"),
    )
    text = _where(np.abs(scaled) < _EXACT, text)
    return _with_large(text, scaled, lambda x: f"{x / 10**digits:.{digits}f}")


def _whole(values: np.ndarray) -> pa.Array:
    """Whole numbers (given as floats or ints) as text; ``n/a`` where not finite."""
    values = np.asarray(values, dtype=float)
    exact = np.abs(values) < _EXACT
    text = pc.cast(pa.array(_integers(values), mask=~exact), pa.string())
    return _with_large(text, values, lambda x: f"{x:.0f}")


def _with_large(text: pa.Array, values: np.ndarray, formatted) -> pa.Array:
    """``text`` with the values beyond exact integers formatted by Python (rare)."""
    large = np.isfinite(values) & ~(np.abs(values) < _EXACT)
    if large.any():
        replacements = pa.array([formatted(x) for x in values[large]])
        text = pc.replace_with_mask(text, pa.array(large), replacements)
    return pc.fill_null(text, MISSING)


def _integers(values: np.ndarray) -> np.ndarray:
    """``values`` as int64 where they are exact integers, 0 elsewhere (masked by callers)."""
    values = np.asarray(values, dtype=float)
    return np.where(np.abs(values) < _EXACT, values, 0.0).astype(np.int64)


def _join(*pieces, nulls: bool = True) -> pa.Array:
    """Concatenate text arrays and strings element-wise.

    With ``nulls`` a null piece makes the whole null; without, it counts as nothing.
    """
    if nulls:
        return pc.binary_join_element_wise(*pieces, "")
    return pc.binary_join_element_wise(*pieces, "", null_handling="replace")


def _where(shown: np.ndarray, text) -> pa.Array:
    """``text`` where ``shown``, null elsewhere."""
    return pc.if_else(pa.array(shown), text, pa.scalar(None, pa.string()))


def _money_where(shown: np.ndarray, values: np.ndarray, currency: str | None) -> pa.Array:
    """:func:`money` of the ``values`` shown, null elsewhere (only those are formatted:
    most rows of a large table show no mirror gap or fall)."""
    text = pa.nulls(len(values), pa.string())
    if not shown.any():
        return text
    return pc.replace_with_mask(text, pa.array(shown), money(values[shown], currency))


def _numbers(leads: pd.DataFrame, name: str) -> np.ndarray:
    return leads[name].to_numpy(dtype=float, na_value=np.nan)


def _strings(column: pd.Series) -> pa.Array:
    """A text column (missing values null) as Arrow strings."""
    return pa.array(column.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _flag(flags: Mapping[str, np.ndarray], n_rows: int, name: str) -> np.ndarray:
    """A signal's flags; all false where the model has no detector that fires it."""
    if name not in flags:
        return np.zeros(n_rows, dtype=bool)
    return np.asarray(flags[name], dtype=bool)
