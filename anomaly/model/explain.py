"""One-line, human explanations of leads, e.g.

``DEU→KGZ 854231: €1.7M in 2022 vs €0.06M expected (90% band €0.03M–€0.11M), 28×;
mirror gap 64%; KGZ→RUS exports of 854231 up 40×``
"""

from __future__ import annotations

import math

SYMBOLS = {"EUR": "€", "USD": "$"}
#: Demand factors and mirror gaps smaller than this are not worth a line.
MATERIAL_SHARE = 0.05


def money(value: float, currency: str | None) -> str:
    """Human-readable amount: ``€1.7M``, ``$61M``, ``€52k``.

    Examples
    --------
    >>> money(1_700_000, "EUR"), money(61e6, "USD"), money(52_300, "EUR"), money(950, None)
    ('€1.7M', '$61M', '€52k', '950')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    symbol = SYMBOLS.get(currency or "", "")
    sign = "-" if value < 0 else ""
    size = abs(value)
    if round(size) < 1000:
        return f"{sign}{symbol}{size:.0f}"
    for limit, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "B")):
        scaled = size / limit
        digits = 0 if scaled >= 10 else 1
        # Round first, then choose the unit: 999,999 is €1.0M, not €1000k.
        if round(scaled, digits) < 1000 or suffix == "B":
            return f"{sign}{symbol}{scaled:.{digits}f}{suffix}"
    raise AssertionError("unreachable: the last unit always returns")


def _ratio(actual: float, expected: float) -> str:
    if expected <= 0:
        return "no pre-war trade expected"
    ratio = actual / expected
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def explain(row, *, currency: str | None, window: str) -> str:
    """Explanation of one lead row (an ``itertuples`` row of the leads table)."""
    arrow = "→" if row.flow in ("export", "re-export") else "←"
    head = f"{row.reporter}{arrow}{row.partner} {row.hs}"
    amount = (
        f"{money(row.actual, currency)} in {window} vs {money(row.expected, currency)} expected "
        f"(90% band {money(row.lower, currency)}–{money(row.upper, currency)})"
    )
    signals = row.signals.split(";") if row.signals else []
    if "compliance_drop" in signals:
        fall = 1 - row.actual / row.expected if row.expected > 0 else 0.0
        return (
            f"{head}: {amount}, down {fall:.0%}: direct trade with a sanctioned country fell "
            "(compliance, not a lead)"
        )
    parts = [f"{head}: {amount}, {_ratio(row.actual, row.expected)}"]
    if abs(row.demand_factor - 1.0) >= MATERIAL_SHARE:
        parts.append(f"general demand ×{row.demand_factor:.2f} factored in")
    if math.isfinite(row.mirror_gap) and row.mirror_gap >= MATERIAL_SHARE:
        missing = money(row.not_received, currency)
        parts.append(f"mirror gap {row.mirror_gap:.0%} ({missing} declared shipped, not received)")
    if isinstance(row.hub, str) and math.isfinite(row.onward_ratio):
        parts.append(f"{row.hub}→RUS exports of {row.hs} {_ratio_word(row.onward_ratio)}")
    if "rerouting" in signals and row.direct_drop > 0:
        parts.append(f"direct exports to RUS/BLR fell by {money(row.direct_drop, currency)}")
    if "new_flow" in signals:
        parts.append("no trade before the war")
    return "; ".join(parts)


def _ratio_word(ratio: float) -> str:
    if ratio >= 1:
        return f"up {ratio:.0f}×" if ratio >= 10 else f"up {ratio:.1f}×"
    return f"down {1 - ratio:.0%}"
