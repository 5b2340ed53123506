"""Training memory, step by step, and the accuracy of the up-front estimate.

Run from the repository root::

    python experiments/bench_train_memory.py            # 10^4 ... 4·10^5 series
    python experiments/bench_train_memory.py --quick    # 10^4 and 10^5 series

Each size is measured in a fresh process on the canonical Parquet panel of
``experiments/bench_read.py`` (200 real countries, 5,000 HS6 codes, every month of
2015-01..2024-12), written with the key columns dictionary-encoded and as plain
strings, trained as ``anomaly train
--train-start 2015-01 --train-end 2021-12`` does: ``read_flows``, ``build_panel``,
the flows table released, then ``TradeAnomalyModel().fit(panel)``.

Each step's *own* peak is measured: before the step the kernel's high-water mark of
the process is reset (``/proc/self/clear_refs``, Linux), after it ``VmHWM`` is read. The
command line cannot do this (it would falsify the peak that ``time -v`` or a parent
process reads), so it logs the peak so far instead. The fit's estimate
(:func:`anomaly.model.memory.estimate_training_memory`: what the process holds when the
fit starts, plus :data:`~anomaly.model.memory.FIT_BYTES_PER_CELL` per series-month of
the training window) is compared with the fit's measured peak.

Writes ``experiments/results/bench_train_memory.md`` (or ``..._quick.md``).
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
SIZES = (10_000, 30_000, 100_000, 200_000, 400_000)
QUICK_SIZES = (10_000, 100_000)
LAYOUTS = ("dictionary", "plain")


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
    plain strings (written once)."""
    sys.path.insert(0, str(ROOT / "experiments"))
    from bench_read import flows_table

    folder = DATA / f"train-{n_series}"
    path = folder / f"{layout}.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(flows_table(n_series), preserve_index=False)
        if layout == "plain":
            # Cast in Arrow: a Python string per row and key would take 20 GiB at 48M rows.
            table = pa.table(
                {
                    name: (column.cast(pa.string()) if pa.types.is_dictionary(kind) else column)
                    for name, column, kind in zip(
                        table.column_names, table.columns, table.schema.types, strict=True
                    )
                }
            )
        pq.write_table(table, path)
    return path


def measure(path: str) -> dict:
    """Read, build the panel, estimate, fit: each step's time and own peak."""
    from anomaly import build_panel, read_flows
    from anomaly.io import count_rows
    from anomaly.model import TradeAnomalyModel, estimate_training_memory
    from anomaly.model.memory import reading_memory_gib
    from anomaly.model.trade_model import training_window

    found: dict = {"estimate_read_gib": reading_memory_gib(count_rows(path))}
    with Step(found, "read"):
        flows = read_flows(path)
    found["rows"] = len(flows)
    with Step(found, "panel"):
        panel = build_panel(flows)
        del flows
    start, end = training_window(panel, *TRAIN)
    n_months = end.ordinal - start.ordinal + 1
    estimate = estimate_training_memory(panel.n_series, n_months, budget_gib=float("inf"))
    found.update(
        series=panel.n_series,
        months=n_months,
        estimate_resident_gib=estimate.resident_gib,
        estimate_fit_gib=estimate.fit_gib,
        estimate_peak_gib=estimate.peak_gib,
    )
    with Step(found, "fit"):
        TradeAnomalyModel().fit(panel, *TRAIN)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 series")
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of series")
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    rows = []
    for n_series, layout in ((n, layout) for n in sizes for layout in args.layouts):
        path = data_file(n_series, layout)
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        print(n_series, layout, found, flush=True)
        fit = found["fit"]
        cells = found["series"] * found["months"]
        added = fit["peak_gib"] - fit["resident_before_gib"]
        read_peak = max(found["read"]["peak_gib"], found["panel"]["peak_gib"])
        rows.append(
            f"| {found['series']:,} | {layout} | {found['rows']:,} | "
            f"{found['read']['seconds']:.1f} | {found['read']['peak_gib']:.2f} | "
            f"{found['panel']['seconds']:.1f} | {found['panel']['peak_gib']:.2f} | "
            f"{found['estimate_read_gib']:.2f} | {found['estimate_read_gib'] / read_peak:.2f} | "
            f"{fit['seconds']:.1f} | {fit['resident_before_gib']:.2f} | {fit['peak_gib']:.2f} | "
            f"{added * 2**30 / cells:.0f} | {found['estimate_peak_gib']:.2f} | "
            f"{found['estimate_peak_gib'] / fit['peak_gib']:.2f} |"
        )
    from anomaly.model.memory import (
        FIT_BYTES_PER_CELL,
        FIT_MARGIN_GIB,
        READ_BASE_GIB,
        READ_BYTES_PER_ROW,
    )

    quick = " --quick" if args.quick and not args.sizes else ""
    lines = [
        "# Training memory, step by step\n",
        f"Command: `python experiments/bench_train_memory.py{quick}"
        f"{' --sizes ' + ' '.join(map(str, args.sizes)) if args.sizes else ''}`; "
        f"training window {TRAIN[0]}..{TRAIN[1]}; machine: {platform.machine()}, 2 cores, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}.\n",
        "Peaks are each step's own (the process's high-water mark reset before the step), "
        "in GiB, including everything the process held when the step began. `anomaly "
        "train` makes two estimates and refuses to go on when one exceeds the budget "
        "(`--memory-budget`, default: what the process holds + what the system has "
        "available): before reading (Parquet files say their rows), "
        f"`reading_memory_gib`: {READ_BASE_GIB} GiB + {READ_BYTES_PER_ROW} bytes per row, "
        "against the peak of reading and building the panel; before the fit, "
        "`estimate_training_memory`: what the process holds when the fit starts + "
        f"{FIT_BYTES_PER_CELL} bytes per series-month of the training window + "
        f"{FIT_MARGIN_GIB} GiB, against the fit's peak. A ratio above 1 is a cautious "
        "estimate.\n",
        "| series | layout | rows | read (s) | read peak | panel (s) | panel peak "
        "| estimated read + panel peak | estimate / measured | fit (s) "
        "| held at fit start | fit peak | fit bytes per cell | estimated fit peak "
        "| estimate / measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    out = RESULTS / f"bench_train_memory{'_quick' if quick else ''}.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
