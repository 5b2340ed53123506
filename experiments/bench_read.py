"""Reading canonical Parquet: rows per second of ``read_flows`` and ``build_panel``,
for each way the file can be written, beside pyarrow's own read of the same file.

Run from the repository root::

    python experiments/bench_read.py             # 2·10^5 series × 120 months (24M rows)
    python experiments/bench_read.py --quick     # 10^5 series (12M rows)

1. **Data** (cached in ``experiments/.data/``, git-ignored): ``n`` series drawn from
   200 real ISO alpha-3 countries (reporter ≠ partner), the four flows and 5,000 HS6
   codes, every month of 2015-01..2024-12 present, rows in month order. Written four
   ways, same rows: ``dictionary`` (one file, key columns as pandas categoricals, i.e.
   Arrow dictionaries, as ``DataFrame.to_parquet`` writes them), ``plain`` (one file,
   key columns as plain strings), ``files`` (a directory of one plain-string file per
   year, row groups of 100,000 rows) and ``shuffled`` (``plain`` with its rows in
   random order: the one layout whose rows must be sorted).
2. **Measure**, each layout in a fresh process: ``anomaly.read_flows(path)``, then
   ``anomaly.build_panel(flows)``, then ``pyarrow.parquet.read_table(path)`` (the raw
   read, for the ratio). The file is read once beforehand so every read starts from
   the page cache. Peak memory is the process's max RSS after ``build_panel`` (the raw
   read comes after, so it is not in the peak).

Writes ``experiments/results/bench_read.md`` (or ``bench_read_quick.md``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
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
MONTHS = pd.period_range("2015-01", "2024-12", freq="M")
N_COUNTRIES = 200
N_CODES = 5_000
FLOWS = ("export", "import", "re-export", "re-import")
LAYOUTS = ("dictionary", "plain", "files", "shuffled")
#: Rows per row group of the ``files`` layout (the single files use pyarrow's default).
SMALL_ROW_GROUPS = 100_000
SEED = 0


def flows_table(n_series: int, seed: int = SEED) -> pd.DataFrame:
    """The benchmark's canonical table, key columns categorical, in month order."""
    from anomaly.reference import countries

    rng = np.random.default_rng(seed)
    iso3 = np.sort(countries()["alpha3"].dropna().unique())[:N_COUNTRIES]
    chapters = rng.choice(np.arange(1, 98), N_CODES)

    def code(chapter: int) -> str:
        return f"{chapter:02d}{rng.integers(0, 10_000):04d}"

    codes = np.unique([code(chapter) for chapter in chapters])
    while len(codes) < N_CODES:
        codes = np.unique(np.append(codes, code(rng.integers(1, 98))))
    n_pairs = N_COUNTRIES * (N_COUNTRIES - 1)
    series = rng.choice(n_pairs * len(FLOWS) * N_CODES, n_series, replace=False)
    series.sort()
    hs, rest = series % N_CODES, series // N_CODES
    flow, pair = rest % len(FLOWS), rest // len(FLOWS)
    reporter, other = pair // (N_COUNTRIES - 1), pair % (N_COUNTRIES - 1)
    partner = other + (other >= reporter)
    n_months = len(MONTHS)
    month = np.repeat(np.arange(n_months), n_series)
    row_series = np.tile(np.arange(n_series), n_months)
    labels = np.asarray(MONTHS.strftime("%Y-%m"), dtype=object)
    return pd.DataFrame(
        {
            "period": pd.Categorical.from_codes(month, categories=labels),
            "reporter": pd.Categorical.from_codes(reporter[row_series], categories=iso3),
            "partner": pd.Categorical.from_codes(partner[row_series], categories=iso3),
            "flow": pd.Categorical.from_codes(flow[row_series], categories=list(FLOWS)),
            "hs": pd.Categorical.from_codes(hs[row_series], categories=codes),
            "value": rng.lognormal(9.0, 2.0, len(month)).round(2),
        }
    )


def write_layouts(n_series: int) -> dict[str, Path]:
    """Write (once) the three layouts of the same rows; return their paths."""
    folder = DATA / f"read-{n_series}"
    paths = {
        "dictionary": folder / "dictionary.parquet",
        "plain": folder / "plain.parquet",
        "files": folder / "files",
        "shuffled": folder / "shuffled.parquet",
    }
    if all(path.exists() for path in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    table = flows_table(n_series)
    table.to_parquet(paths["dictionary"], index=False)
    plain = pa.Table.from_pandas(table, preserve_index=False)
    plain = pa.table(
        {
            name: (column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column)
            for name, column in zip(plain.column_names, plain.columns, strict=True)
        }
    )
    pq.write_table(plain, paths["plain"])
    paths["files"].mkdir(exist_ok=True)
    years = np.asarray(table["period"].cat.codes, dtype=np.int64) // 12
    for year in np.unique(years):
        rows = np.flatnonzero(years == year)
        part = plain.slice(int(rows[0]), len(rows))
        pq.write_table(
            part, paths["files"] / f"{2015 + year}.parquet", row_group_size=SMALL_ROW_GROUPS
        )
    # The same rows in random order: the table must be sorted, which no other layout needs.
    order = np.random.default_rng(SEED).permutation(plain.num_rows)
    pq.write_table(plain.take(order), paths["shuffled"])
    return paths


def measure(path: str) -> dict:
    """Time ``read_flows``, ``build_panel`` and the raw pyarrow read of ``path``."""
    from anomaly import build_panel, read_flows

    files = sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
    for file in files:
        file.read_bytes()  # page cache
    started, cpu = time.perf_counter(), time.process_time()
    flows = read_flows(path)
    read, read_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    panel = build_panel(flows)
    built = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    rows = len(flows)
    flows_gib = flows.memory_usage(deep=True).sum() / 2**30
    del flows, panel
    started, cpu = time.perf_counter(), time.process_time()
    raw = pq.read_table(path)
    arrow, arrow_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert raw.num_rows == rows
    return {
        "rows": rows,
        "read_s": read,
        "read_cpu_s": read_cpu,
        "panel_s": built,
        "arrow_s": arrow,
        "arrow_cpu_s": arrow_cpu,
        "flows_gib": flows_gib,
        "peak_gib": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 series")
    parser.add_argument("--series", type=int, help="number of series (overrides --quick)")
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="results file (default experiments/results/...)")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    n_series = args.series or (100_000 if args.quick else 200_000)
    paths = write_layouts(n_series)
    rows = []
    for layout in args.layouts:
        # A fresh process per layout: its peak memory is its own.
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(paths[layout])],
            check=True,
            capture_output=True,
            text=True,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        print(layout, found, flush=True)
        rows.append(
            "| {layout} | {rows:,} | {read_s:.1f} | {read_rate:.2f} | {read_cpu_s:.1f} | "
            "{arrow_s:.2f} | {arrow_rate:.1f} | {arrow_cpu_s:.1f} | {ratio:.1f} | {panel_s:.1f} | "
            "{flows_gib:.2f} | {peak_gib:.1f} |".format(
                layout=layout,
                read_rate=found["rows"] / found["read_s"] / 1e6,
                arrow_rate=found["rows"] / found["arrow_s"] / 1e6,
                ratio=found["read_s"] / found["arrow_s"],
                **found,
            )
        )
    import pyarrow

    quick = "" if args.series or not args.quick else " --quick"
    lines = [
        "# Reading canonical Parquet\n",
        f"Command: `python experiments/bench_read.py{quick}"
        f"{f' --series {args.series}' if args.series else ''}`; {n_series:,} series × "
        f"{len(MONTHS)} months; machine: {platform.machine()}, 2 cores, Python "
        f"{platform.python_version()}, pandas {pd.__version__}, pyarrow {pyarrow.__version__}, "
        f"numpy {np.__version__}.\n",
        "Layouts: `dictionary` = one file, key columns dictionary-encoded (pandas "
        "categoricals); `plain` = one file, key columns plain strings; `files` = one "
        f"plain-string file per year, row groups of {SMALL_ROW_GROUPS:,} rows; `shuffled` = "
        "`plain` with its rows in random order (the others are in month order, as files "
        "are usually written, and need no sort).\n",
        "Times are wall-clock seconds; CPU is the process's CPU time over all its threads "
        "(pyarrow decodes columns in parallel; the machine is shared, so wall time varies "
        "with the load).\n",
        "| layout | rows | read_flows (s) | read_flows (M rows/s) | read_flows CPU (s) "
        "| pyarrow read_table (s) | pyarrow (M rows/s) | pyarrow CPU (s) "
        "| read_flows / pyarrow | build_panel (s) | flows table (GiB) | peak memory (GiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    out = Path(args.out) if args.out else RESULTS / f"bench_read{'_quick' if quick else ''}.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
