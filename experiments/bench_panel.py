"""Panel scale: 10^6 series × 120 months from a long table, time and peak memory.

Run from the repository root::

    python experiments/bench_panel.py            # 10^6 series (about 60M rows)
    python experiments/bench_panel.py --quick    # 10^5 series

It builds a canonical long table with categorical key columns (what a reader of big
Parquet datasets gives: strings stored once) and half of the months reported, pivots
it with ``build_panel`` (HS harmonisation included), and writes
``experiments/results/bench_panel.md`` with the table's size, the panel's size, the wall
time and the process's peak memory (max RSS).

Reading the table from Parquet is measured beside it, in ``experiments/bench_read.py``
(rows per second of ``read_flows`` for dictionary-encoded and plain-string files, one
file or many, as a ratio to ``pyarrow.parquet.read_table`` in the same process), and
training memory in ``experiments/bench_train_memory.py``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly.panel import build_panel

ROOT = Path(__file__).resolve().parents[1]
MONTHS = 120
DENSITY = 0.5


def long_table(n_series: int, seed: int = 0) -> pd.DataFrame:
    """A canonical table: ``n_series`` distinct keys, each reported in half the months."""
    rng = np.random.default_rng(seed)
    reporters = np.array([f"R{i:02d}" for i in range(40)])
    partners = np.array([f"P{i:03d}" for i in range(250)])
    codes = np.array([f"{100000 + 97 * i:06d}" for i in range(1000)])
    series = rng.choice(len(reporters) * len(partners) * len(codes), n_series, replace=False)
    hs, rest = series % len(codes), series // len(codes)
    partner, reporter = rest % len(partners), rest // len(partners)
    reported = rng.random((n_series, MONTHS)) < DENSITY
    rows, months = np.nonzero(reported)
    return pd.DataFrame(
        {
            "period": pd.PeriodIndex(pd.period_range("2015-01", periods=MONTHS, freq="M")[months]),
            "reporter": pd.Categorical.from_codes(reporter[rows], categories=reporters),
            "partner": pd.Categorical.from_codes(partner[rows], categories=partners),
            "flow": pd.Categorical.from_codes(np.zeros(len(rows), np.int8), categories=["export"]),
            "hs": pd.Categorical.from_codes(hs[rows], categories=codes),
            "value": rng.lognormal(9.0, 2.0, len(rows)),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 series")
    parser.add_argument("--out", default=str(ROOT / "experiments" / "results" / "bench_panel.md"))
    args = parser.parse_args()
    n_series = 100_000 if args.quick else 1_000_000

    started = time.perf_counter()
    flows = long_table(n_series)
    made = time.perf_counter() - started
    table_gib = flows.memory_usage(deep=True).sum() / 2**30
    started = time.perf_counter()
    panel = build_panel(flows)
    built = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    panel_gib = panel.values.nbytes / 2**30

    lines = [
        "# Panel scale\n",
        f"Command: `python experiments/bench_panel.py{' --quick' if args.quick else ''}`; "
        f"machine: {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}.\n",
        "| series | months | rows | long table (GiB) | build_panel (s) "
        "| panel matrix (GiB, float64) | peak memory (GiB) |",
        "|---|---|---|---|---|---|---|",
        f"| {panel.n_series:,} | {panel.n_periods} | {len(flows):,} | {table_gib:.2f} | "
        f"{built:.1f} | {panel_gib:.2f} | {peak:.1f} |\n",
        f"Making the synthetic table took {made:.1f} s (not included).",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
