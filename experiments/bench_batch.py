"""Batch scoring at scale: 10^6 series × 120 months of Parquet, read → leads.

Run from the repository root::

    python experiments/bench_batch.py            # 10^6 exporter series (~1.9M series)
    python experiments/bench_batch.py --quick    # 10^5 exporter series, a few minutes

1. **Dataset** (cached in ``experiments/.data/``, git-ignored): the simulated world of
   :func:`anomaly.simulate.simulate_panel` (exporter declarations and the importers'
   mirrors, 2015-01..2024-12, planted schemes) written as a canonical Parquet dataset,
   one directory per year (``year=2015/part-000.parquet``, ...).
2. **Training** on 2015-01..2021-12, in a fresh process (time and peak memory
   reported). The training panel is built partition by partition (series grouped by
   unordered country pair, as :mod:`anomaly.batch` does) and concatenated in key order,
   which is exactly ``build_panel`` of the whole training table at a fraction of its
   memory.
3. **Scoring** 2022-01..2024-12 end to end (read → ``leads.csv`` and
   ``scores.parquet``) with ``anomaly score`` in a fresh process each: ``--jobs 1``,
   ``--jobs 2`` and ``--engine dask --jobs 2`` (a local cluster of two worker
   processes); with ``--quick``, the in-memory ``anomaly score`` too. Wall time, peak
   memory (the summed RSS of the process and all its descendants — Dask's nannies and
   workers included — sampled every 0.1 s) and series per second are reported, with
   each run's steps from its log, and every run's ``leads.csv`` is compared byte for
   byte.

Writes its section of ``experiments/results/bench_batch.md`` (one per scale; the rest
of the file is kept).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "experiments" / ".data"
RESULTS = ROOT / "experiments" / "results"
TRAIN = ("2015-01", "2021-12")
SCORE = ("2022-01", "2024-12")
#: Series (rows of the simulated panel) per written block: one file per block and year.
BLOCK_SERIES = 250_000
#: Groups of country pairs the training panel is built in.
GROUPS = 16
SEED = 0


def build_dataset(n_series: int, folder: Path) -> dict:
    """Write the simulated world as a hive-partitioned canonical Parquet dataset."""
    from anomaly.simulate import simulate_panel

    started = time.perf_counter()
    world = simulate_panel(n_series, seed=SEED)
    simulated = time.perf_counter() - started
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    keys = world.keys
    codes = {c: pd.factorize(keys[c]) for c in ("reporter", "partner", "flow", "hs")}
    labels = pa.array(np.asarray(world.periods.astype(str), dtype=object), type=pa.string())
    years = world.periods.year.to_numpy()
    n_rows = 0
    for block, first in enumerate(range(0, len(keys), BLOCK_SERIES)):
        values = world.values[first : first + BLOCK_SERIES]
        rows, months = np.nonzero(~np.isnan(values))
        columns = {"period": _dictionary(months, labels)}
        for name, (code, distinct) in codes.items():
            dictionary = pa.array(np.asarray(distinct, dtype=object), type=pa.string())
            columns[name] = _dictionary(code[first + rows], dictionary)
        columns["value"] = pa.array(values[rows, months].astype(np.float64))
        table = pa.table(columns)
        for year in np.unique(years):
            part = table.filter(pa.array(years[months] == year))
            path = staging / f"year={year}" / f"part-{block:03d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, path)
        n_rows += len(rows)
    info = {
        "n_series_requested": n_series,
        "series": len(keys),
        "rows": n_rows,
        "files": len(list(staging.rglob("*.parquet"))),
        "bytes": sum(p.stat().st_size for p in staging.rglob("*.parquet")),
        "seed": SEED,
        "simulate_s": round(simulated, 1),
        "total_s": round(time.perf_counter() - started, 1),
    }
    (staging / "_dataset.json").write_text(json.dumps(info, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)
    return info


def _dictionary(indices: np.ndarray, dictionary: pa.Array) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), dictionary)


def train(n_series: int, out: Path) -> dict:
    """Fit and save the model (run in a fresh process by :func:`main`)."""
    import resource

    from anomaly import Panel, TradeAnomalyModel, build_panel
    from anomaly.batch import pair_partitions
    from anomaly.batch.assemble import in_memory_order
    from anomaly.simulate import simulate_panel

    timings = {}
    started = time.perf_counter()
    world = simulate_panel(n_series, seed=SEED)
    timings["simulate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    months = world.periods <= pd.Period(TRAIN[1], freq="M")
    keys = world.keys
    categorical = {c: keys[c].astype("category") for c in ("reporter", "partner", "flow", "hs")}
    group = pair_partitions(keys["reporter"], keys["partner"], GROUPS)
    parts = []
    for g in range(GROUPS):
        series = np.flatnonzero(group == g)
        rows, columns = np.nonzero(~np.isnan(world.values[series][:, months]))
        flows = pd.DataFrame(
            {"period": world.periods[months][columns]}
            | {c: categorical[c].iloc[series[rows]].to_numpy() for c in categorical}
            | {"value": world.values[series[rows], columns].astype(np.float64)}
        )
        parts.append(build_panel(flows, start=TRAIN[0], end=TRAIN[1]))
    panel_keys = pd.concat([p.keys for p in parts], ignore_index=True)
    values = np.vstack([p.values for p in parts])
    order = in_memory_order(panel_keys, np.full(len(panel_keys), -1))
    panel = Panel(panel_keys.iloc[order].reset_index(drop=True), parts[0].periods, values[order])
    del world, parts, values
    timings["panel_s"] = time.perf_counter() - started

    started = time.perf_counter()
    model = TradeAnomalyModel().fit(panel, *TRAIN)
    timings["fit_s"] = time.perf_counter() - started
    started = time.perf_counter()
    model.save(out)
    timings["save_s"] = time.perf_counter() - started
    return {
        "trained_series": len(model.keys_),
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    } | {k: round(v, 1) for k, v in timings.items()}


def measured(command: list[str], log: Path) -> dict:
    """Run ``command``; wall time and the peak summed RSS of its process tree."""
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        root = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_rss(p) for p in tree))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.1)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed; see {log}")
    return {"wall_s": wall, "peak_gib": peak / 2**30}


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def steps(log: Path) -> str:
    """The step timings a batch run logs (``scan 12.3 s, pass 1 ...``)."""
    found = re.search(r"batch scoring: (.*)", log.read_text())
    return found.group(1) if found else ""


def machine() -> str:
    import dask
    import pyarrow

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, pyarrow {pyarrow.__version__}, "
        f"dask {dask.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 exporter series")
    parser.add_argument("--series", type=int, help="exporter series (default 10^6, 10^5 quick)")
    parser.add_argument("--train-only", metavar="MODEL_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_series = args.series or (100_000 if args.quick else 1_000_000)
    if args.train_only:
        print(json.dumps(train(n_series, Path(args.train_only))))
        return

    folder = DATA / f"bench_batch_{n_series}"
    dataset = folder / "flows"
    if (dataset / "_dataset.json").exists():
        info = json.loads((dataset / "_dataset.json").read_text())
    else:
        print(f"writing the dataset of {n_series} exporter series ...", flush=True)
        info = build_dataset(n_series, dataset)
    print(json.dumps(info), flush=True)

    model = folder / "model"
    trained_log = folder / "train.json"
    if not trained_log.exists():
        print("training ...", flush=True)
        shutil.rmtree(model, ignore_errors=True)
        command = [sys.executable, __file__, "--series", str(n_series), "--train-only", str(model)]
        run = measured(command, folder / "train.log")
        result = json.loads((folder / "train.log").read_text().strip().splitlines()[-1])
        trained_log.write_text(json.dumps(result | run, indent=2))
    training = json.loads(trained_log.read_text())
    print(json.dumps(training), flush=True)

    base = ["anomaly", "--log-level", "info", "score", "--model", str(model)]
    window = ["--start", SCORE[0], "--end", SCORE[1]]
    runs = {
        "local, --jobs 1": ["--data", str(dataset), *window, "--jobs", "1"],
        "local, --jobs 2": ["--data", str(dataset), *window, "--jobs", "2"],
        "dask, 2 workers": ["--data", str(dataset), *window, "--engine", "dask", "--jobs", "2"],
    }
    if args.quick:
        files = sorted(str(p) for p in dataset.rglob("*.parquet"))
        runs["in memory (no batch options)"] = ["--data", *files, *window]
    results = {}
    for name, options in runs.items():
        out = folder / ("out-" + re.sub(r"\W+", "-", name).strip("-"))
        shutil.rmtree(out, ignore_errors=True)
        print(f"scoring: {name} ...", flush=True)
        run = measured([*base, *options, "--out", str(out)], folder / f"{out.name}.log")
        scored = json.loads((out / "run.json").read_text())
        run |= {
            "series": scored["n_series"],
            "partitions": scored.get("batch", {}).get("partitions", "-"),
            "steps": steps(folder / f"{out.name}.log"),
            "out": out,
        }
        results[name] = run
        print(json.dumps({k: v for k, v in run.items() if k != "out"}, default=str), flush=True)

    reference = results["local, --jobs 1"]["out"] / "leads.csv"
    for run in results.values():
        run["identical"] = filecmp.cmp(reference, run["out"] / "leads.csv", shallow=False)
    section = render(n_series, info, training, results, args)
    update_section(RESULTS / "bench_batch.md", str(n_series), section)
    print(section)


def update_section(
    path: Path, name: str, section: str, title: str = "# Batch scoring at scale"
) -> None:
    """Put ``section`` between its markers in ``path``, keeping the rest of the file
    (other scales' results, notes written by hand); a new file starts with ``title``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{section}\n{end}"
    text = path.read_text() if path.exists() else f"{title}\n\n"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def render(n_series: int, info: dict, training: dict, results: dict, args) -> str:
    command = "python experiments/bench_batch.py" + (" --quick" if args.quick else "")
    if args.series:
        command += f" --series {args.series}"
    local = results["local, --jobs 2"]["wall_s"]
    dask = results["dask, 2 workers"]["wall_s"]
    lines = [
        f"## {n_series:,} exporter series" + (" (`--quick`)" if args.quick else ""),
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}",
        "",
        f"Dataset: simulated world of {n_series:,} exporter series (`simulate_panel`, seed "
        f"{SEED}): **{info['series']:,} series** (with the importers' mirrors), "
        f"{info['rows']:,} rows × 120 months (2015-01..2024-12), canonical Parquet in "
        f"{info['files']} files (one directory per year), {info['bytes'] / 2**30:.2f} GiB.",
        "",
        f"Training on {TRAIN[0]}..{TRAIN[1]} ({training['trained_series']:,} series, fresh "
        f"process): panel {training['panel_s']} s, fit {training['fit_s']} s, save "
        f"{training['save_s']} s (simulating the world again: {training['simulate_s']} s); "
        f"wall {training['wall_s']:.0f} s, peak memory {training['peak_gib']:.1f} GiB.",
        "",
        f"Scoring {SCORE[0]}..{SCORE[1]}, end to end (read → `leads.csv` and "
        "`scores.parquet`), each run a fresh `anomaly score` process:",
        "",
        "| run | partitions | wall (s) | peak memory (GiB) | series/s | leads.csv as --jobs 1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in results.items():
        lines.append(
            f"| {name} | {run['partitions']} | {run['wall_s']:.1f} | {run['peak_gib']:.2f} | "
            f"{run['series'] / run['wall_s']:,.0f} | "
            f"{'identical' if run['identical'] else 'DIFFERENT'} |"
        )
    lines += ["", "Steps of each batch run (from its log):", ""]
    lines += [f"- {name}: {run['steps']}" for name, run in results.items() if run["steps"]]
    best = min(r["wall_s"] for r in results.values())
    worst = max(r["peak_gib"] for r in results.values() if r["steps"])
    lines += [
        "",
        f"Targets: end to end under 120 s — best {best:.1f} s; under 8 GiB — worst batch run "
        f"{worst:.1f} GiB; Dask within 1.3× of local at 2 workers — {dask / local:.2f}×.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
