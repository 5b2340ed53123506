"""Markdown tables for the experiments' results files (no extra dependency)."""

from __future__ import annotations

import pandas as pd


def markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub markdown table; floats to ``digits`` decimals.

    Examples
    --------
    >>> print(markdown(pd.DataFrame({"model": ["a"], "score": [0.12345]})))
    | model | score |
    |---|---|
    | a | 0.123 |
    """

    def cell(value: object) -> str:
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)
