"""Which goods a model treats as controlled: the CHP list, every good, or a user's list.

Controlled goods are the ones whose routes into transit countries and sanctioned
destinations can alert; the others give each destination's general-demand control.
A user's list (an export-control annex, a watch list) is a file of HS codes: chapters,
headings or subheadings (2, 4 or 6 digits); a code stands for every finer code under it.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from anomaly.errors import DataError
from anomaly.reference.chp import chp_codes

__all__ = ["CONTROL_SETS", "HS_PREFIX", "controlled_codes", "is_controlled", "read_code_list"]

#: The named sets: ``"chp"`` (the model's version of the CHP list) and ``"all"``.
CONTROL_SETS: tuple[str, ...] = ("chp", "all")
#: Column names a CSV code list may give its codes under (the first found is read).
CODE_COLUMNS: tuple[str, ...] = ("hs", "hs6", "code", "cn8", "product")
#: A code a list of controlled goods may hold: an HS chapter, heading or subheading.
HS_PREFIX = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,2}")
_EXPECTED = "an HS chapter, heading or subheading: 2, 4 or 6 digits, leading zeros kept"


def controlled_codes(controlled: str | Iterable[str], chp_version: str) -> frozenset[str] | None:
    """The codes of the controlled goods, or None when every good is controlled.

    Parameters
    ----------
    controlled : {"chp", "all"} or iterable of str
        A named set (:data:`CONTROL_SETS`) or HS codes of 2, 4 or 6 digits.
    chp_version : str
        The CHP list ``"chp"`` stands for.

    Raises
    ------
    DataError
        A code that is not 2, 4 or 6 digits, or an empty list.

    Examples
    --------
    >>> len(controlled_codes("chp", "2023-09")), controlled_codes("all", "2024-02")
    (45, None)
    >>> sorted(controlled_codes(["8542", "930190"], "2024-02"))
    ['8542', '930190']
    """
    if isinstance(controlled, str):
        if controlled == "chp":
            return frozenset(chp_codes(chp_version))
        if controlled == "all":
            return None
        raise DataError(
            f"unknown set of controlled goods {controlled!r}",
            expected=f"one of {', '.join(CONTROL_SETS)}, or a list of HS codes",
        )
    codes = frozenset(str(code) for code in controlled)
    wrong = sorted(code for code in codes if not HS_PREFIX.fullmatch(code))
    if wrong:
        raise DataError(f"controlled goods {wrong[:5]} are not HS codes", expected=_EXPECTED)
    if not codes:
        raise DataError("the list of controlled goods is empty", expected=_EXPECTED)
    return codes


def is_controlled(hs: pd.Series, codes: frozenset[str] | None) -> np.ndarray:
    """Whether each HS code is controlled: under one of ``codes`` (None: every code).

    Examples
    --------
    >>> is_controlled(pd.Series(["85423190", "854110", "010121"]), frozenset({"8542"}))
    array([ True, False, False])
    """
    if codes is None:
        return np.ones(len(hs), dtype=bool)
    text = hs.astype(str)
    found = np.zeros(len(hs), dtype=bool)
    for length in sorted({len(code) for code in codes}):
        found |= text.str[:length].isin({c for c in codes if len(c) == length}).to_numpy()
    return found


def read_code_list(path: str | os.PathLike) -> tuple[str, ...]:
    """Read a list of controlled HS codes from a file.

    Either plain text, one code per line (blank lines and ``#`` comments skipped), or a
    CSV with a header holding one of :data:`CODE_COLUMNS`. Dots and spaces inside a
    code are dropped (``8542.31`` is ``854231``).

    Raises
    ------
    DataError
        A line whose code is not 2, 4 or 6 digits (the file and line are named), or a
        file without codes.
    FileNotFoundError
        No such file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "list.txt").write_text("# EU Annex XXIII extract\\n8542.31\\n8482\\n")
    >>> read_code_list(folder / "list.txt")
    ('854231', '8482')
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = handle.read().splitlines()
    header = [name.strip().lower() for name in next(csv.reader(lines[:1]), [])]
    column = next((header.index(name) for name in CODE_COLUMNS if name in header), None)
    first_line = 2 if column is not None else 1
    codes = []
    for number, line in enumerate(lines[first_line - 1 :], start=first_line):
        if column is not None:
            cells = next(csv.reader([line]), [])
            text = cells[column] if column < len(cells) else ""
        else:
            text = line.split("#", 1)[0]
        code = re.sub(r"[.\s]", "", text)
        if not code:
            continue
        if not HS_PREFIX.fullmatch(code):
            raise DataError(
                f"{text.strip()!r} is not an HS code",
                source=os.fspath(path),
                lines=[number],
                expected=_EXPECTED,
            )
        codes.append(code)
    if not codes:
        raise DataError("lists no HS codes", source=os.fspath(path), expected=_EXPECTED)
    return tuple(dict.fromkeys(codes))
