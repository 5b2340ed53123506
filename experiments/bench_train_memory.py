"""Training memory, step by step, and the accuracy of the up-front estimates.

Run from the repository root::

    python experiments/bench_train_memory.py            # 10^5 and 4·10^5 series
    python experiments/bench_train_memory.py --sizes 1000000 --layouts plain

Each size is measured in a fresh process on the canonical Parquet panel of
``experiments/bench_read.py`` (200 real countries, 5,000 HS6 codes, every month of
2015-01..2024-12), written with the key columns dictionary-encoded and as plain
strings, and trained as ``anomaly train --train-start 2015-01 --train-end 2021-12``
trains canonical Parquet: ``read_panel`` (the files scanned in batches into a
temporary directory, split by partition, each partition checked and pivoted on its
own, the partitions stacked into one panel), then ``TradeAnomalyModel().fit(panel)``.

Each step's *own* peak is measured: before the step the kernel's high-water mark of
the process is reset (``/proc/self/clear_refs``, Linux), after it ``VmHWM`` is read. The
command line cannot do this (it would falsify the peak that ``time -v`` or a parent
process reads), so it logs the peak so far instead. The two estimates that ``anomaly
train`` checks against its budget are compared with the peaks they predict: the
reading estimate (:func:`anomaly.model.memory.reading_memory_gib`, from the rows and
partitions) with the peak of reading and building the panel, and the fit's
(:func:`anomaly.model.memory.estimate_training_memory`: what the process holds when the
fit starts, plus :data:`~anomaly.model.memory.FIT_BYTES_PER_CELL` per series-month of
the training window) with the fit's peak.

Measurements are kept in ``experiments/results/bench_train_memory.json`` (one entry per
size and layout, with the commit measured, replaced when measured again), so that
sizes run apart end in one table: ``experiments/results/bench_train_memory.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "experiments" / ".data"
RESULTS = ROOT / "experiments" / "results"
TRAIN = ("2015-01", "2021-12")
SIZES = (100_000, 400_000)
LAYOUTS = ("dictionary", "plain")
#: A third layout, on request: plain strings in row groups of 122,880 rows (DuckDB's
#: default; pyarrow and pandas write 2**20).
SMALL_GROUPS = "small-groups"
SMALL_GROUP_ROWS = 122_880


def _kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


class Step:
    """Time and own peak (GiB) of one step, and what was resident before it."""

    def __init__(self, found: dict, name: str) -> None:
        self.found, self.name = found, name

    def __enter__(self) -> Step:
        self.before = _kib("VmRSS") / 2**20
        _reset_peak()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.found[self.name] = {
            "seconds": time.perf_counter() - self.started,
            "resident_before_gib": self.before,
            "peak_gib": _kib("VmHWM") / 2**20,
            "resident_after_gib": _kib("VmRSS") / 2**20,
        }


def data_file(n_series: int, layout: str) -> Path:
    """The canonical file of ``n_series`` series, key columns dictionary-encoded or
    plain strings (in row groups of :data:`SMALL_GROUP_ROWS` for ``small-groups``),
    written once, a year of months at a time: cast to plain strings at once, 10^6
    series would take 6 GiB more than the table itself."""
    sys.path.insert(0, str(ROOT / "experiments"))
    from bench_read import flows_table

    folder = DATA / f"train-{n_series}"
    path = folder / f"{layout}.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        flows = flows_table(n_series)
        staging = path.with_suffix(".tmp")
        writer = None
        # The table is in month order: a year is one contiguous slice.
        for start in range(0, len(flows), 12 * n_series):
            table = pa.Table.from_pandas(
                flows.iloc[start : start + 12 * n_series], preserve_index=False
            )
            if layout in ("plain", SMALL_GROUPS):
                table = pa.table(
                    {
                        name: (column.cast(pa.string()) if pa.types.is_dictionary(kind) else column)
                        for name, column, kind in zip(
                            table.column_names, table.columns, table.schema.types, strict=True
                        )
                    }
                )
            writer = writer or pq.ParquetWriter(staging, table.schema)
            writer.write_table(table, SMALL_GROUP_ROWS if layout == SMALL_GROUPS else None)
        writer.close()
        staging.rename(path)
    return path


def measure(path: str) -> dict:
    """Read and build the panel as ``anomaly train`` does (canonical Parquet: in
    partitions), then fit: each step's time and own peak."""
    from anomaly.batch.panel_reader import native_inputs, partitions_for, read_panel
    from anomaly.model import TradeAnomalyModel
    from anomaly.model.trade_model import training_window

    source = native_inputs(path, "auto")
    partitions = partitions_for(source.n_rows)
    found: dict = {"rows": source.n_rows, "partitions": partitions}
    with Step(found, "read"):
        panel = read_panel(source, partitions=partitions)
    start, end = training_window(panel, *TRAIN)
    found.update(series=panel.n_series, months=end.ordinal - start.ordinal + 1)
    with Step(found, "fit"):
        TradeAnomalyModel().fit(panel, *TRAIN)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    store = RESULTS / "bench_train_memory.json"
    measured = json.loads(store.read_text()) if store.exists() else {}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    code = ["anomaly", "experiments/bench_train_memory.py"]  # not this run's results
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *code], cwd=ROOT).returncode
    for n_series, layout in ((n, layout) for n in args.sizes for layout in args.layouts):
        path = data_file(n_series, layout)
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        found.update(layout=layout, commit=commit + ("+" if dirty else ""))
        print(n_series, layout, found, flush=True)
        measured[f"{n_series}/{layout}"] = found
        store.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
    write_table(measured)


def write_table(measured: dict) -> None:
    """``bench_train_memory.md``: one row per measured size and layout, then the
    file's own sections (from its first ``## `` heading on), kept as they were."""
    from anomaly.model.memory import (
        FIT_BYTES_PER_CELL,
        FIT_MARGIN_GIB,
        PANEL_BYTES_PER_ROW,
        PARTITION_BYTES_PER_ROW,
        PARTITION_SPREAD,
        READ_BASE_GIB,
        fit_memory_gib,
        reading_memory_gib,
    )

    rows = []
    for found in sorted(measured.values(), key=lambda f: (f["series"], f["layout"])):
        read, fit = found["read"], found["fit"]
        cells = found["series"] * found["months"]
        added = fit["peak_gib"] - fit["resident_before_gib"]
        # The estimates of the current coefficients, from what each run measured.
        read_estimate = reading_memory_gib(found["rows"], partitions=found["partitions"])
        fit_estimate = fit["resident_before_gib"] + fit_memory_gib(found["series"], found["months"])
        rows.append(
            f"| {found['series']:,} | {found['layout']} | {found['rows']:,} | "
            f"{found['partitions']} | {read['seconds']:.1f} | {read['peak_gib']:.2f} | "
            f"{read_estimate:.2f} | {read_estimate / read['peak_gib']:.2f} | "
            f"{fit['seconds']:.1f} | {fit['resident_before_gib']:.2f} | {fit['peak_gib']:.2f} | "
            f"{added * 2**30 / cells:.0f} | {fit_estimate:.2f} | "
            f"{fit_estimate / fit['peak_gib']:.2f} | {found['commit']} |"
        )
    lines = [
        "# Training memory, step by step\n",
        "Command: `python experiments/bench_train_memory.py [--sizes N ...] [--layouts ...]`; "
        f"training window {TRAIN[0]}..{TRAIN[1]}; machine: {platform.machine()}, 2 cores, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}.\n",
        "Peaks are each step's own (the process's high-water mark reset before the step), "
        "in GiB, including everything the process held when the step began. `anomaly "
        "train` makes two estimates and refuses to go on when one exceeds the budget "
        "(`--memory-budget`, default: what the process holds + what the system has "
        "available): before reading (Parquet files say their rows), "
        f"`reading_memory_gib`: {READ_BASE_GIB} GiB + {PARTITION_BYTES_PER_ROW} bytes per "
        f"row of the largest partition (taken as {PARTITION_SPREAD} × rows / partitions) + "
        f"{PANEL_BYTES_PER_ROW} bytes per row for the panel, against the peak of reading "
        "and building the panel; before the fit, `estimate_training_memory`: what the "
        f"process holds when the fit starts + {FIT_BYTES_PER_CELL} bytes per series-month "
        f"of the training window + {FIT_MARGIN_GIB} GiB, against the fit's peak. A ratio "
        "above 1 is a cautious estimate. Commit: the code measured (`+`: with changes "
        "not yet committed).\n",
        "| series | layout | rows | partitions | read + panel (s) | read + panel peak "
        "| estimated read + panel peak | estimate / measured | fit (s) "
        "| held at fit start | fit peak | fit bytes per cell | estimated fit peak "
        "| estimate / measured | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    out = RESULTS / "bench_train_memory.md"
    text = "\n".join(lines) + "\n"
    if out.exists() and (notes := out.read_text().partition("\n## ")[2]):
        text += "\n## " + notes  # the written reading of the table is kept
    out.write_text(text)
    print(out.read_text())


if __name__ == "__main__":
    main()
