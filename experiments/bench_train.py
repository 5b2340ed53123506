"""Training at scale: ``anomaly train`` on 10^4 … 10^6 series × 120 months of Parquet.

Run from the repository root::

    python experiments/bench_train.py                 # 10^4, 10^5 and 10^6 series
    python experiments/bench_train.py --quick         # 10^4 and 10^5 series
    python experiments/bench_train.py --sizes 1000000 --layouts dictionary

1. **Data** (cached in ``experiments/.data/``, git-ignored): the canonical Parquet panel
   of ``experiments/bench_read.py`` (200 real countries, 5,000 HS6 codes, every month
   of 2015-01..2024-12), one file per layout: key columns dictionary-encoded (as
   pandas writes categoricals) or plain strings (``bench_train_memory.data_file``);
   on request (``--layouts small-groups``), plain strings in row groups of 122,880
   rows, as DuckDB writes them (pyarrow and pandas write 2**20).
2. **Runs**, each a fresh ``anomaly --log-level info train --train-start 2015-01
   --train-end 2021-12`` process: without options (the partitions read one after the
   other in the process, the fit in memory), ``--jobs 1`` (the partitioned fit, in
   the process), ``--jobs 2`` (two joblib worker processes read and fit them) and
   ``--engine dask --jobs 2`` (a local Dask cluster of two worker processes). Wall time,
   peak memory (the summed RSS of the process and all its descendants, Dask's nannies
   and workers included, sampled every 0.1 s), the steps' times from the log and the
   reading rate (rows read per second of reading and building the panel: the row
   groups of the training window's months, as the log's memory estimate counts them)
   are reported; every run's artifact is compared with that of the run without
   options: identical files (their sha256 in the manifest), else every number within
   ``anomaly.batch.train.TOLERANCE``.

Without options the fit runs in the ``anomaly train`` process on the whole panel; with
``--jobs`` or ``--engine`` it runs over the partitions on the workers
(:func:`anomaly.batch.fit_partitioned`), the process holding per-series arrays only.
Writes its section of ``experiments/results/bench_train.md`` per size (the rest of the
file is kept).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))

from bench_batch import machine, measured, update_section  # noqa: E402
from bench_train_memory import LAYOUTS, SMALL_GROUPS, TRAIN, data_file  # noqa: E402

DATA = ROOT / "experiments" / ".data"
RESULTS = ROOT / "experiments" / "results" / "bench_train.md"
TITLE = "# Training at scale"
SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
RUNS = {
    "no options": [],
    "--jobs 1": ["--jobs", "1"],
    "--jobs 2": ["--jobs", "2"],
    "dask, 2 workers": ["--engine", "dask", "--jobs", "2"],
}
STEPS = ("reading input", "pivoting the partitions", "building the panel", "training", "saving")
#: The done-when of issue 16 at 10^6 series with --jobs 2.
TARGET_SECONDS, TARGET_GIB = 180, 8


def run_training(path: Path, options: list[str], out: Path, log: Path) -> dict:
    """One fresh ``anomaly train`` process: wall, peak memory, steps, artifact files."""
    shutil.rmtree(out, ignore_errors=True)
    command = ["anomaly", "--log-level", "info", "train", "--data", str(path)]
    command += ["--train-start", TRAIN[0], "--train-end", TRAIN[1], "--out", str(out)]
    result = measured([*command, *options], log)
    text = log.read_text()
    result["steps"] = {
        name: float(found.group(1))
        for name in STEPS
        if (found := re.search(rf"INFO anomaly\.progress: {name}: done in ([0-9.]+) s", text))
    }
    # The rows read: a training read skips the row groups outside its window.
    read = re.search(r"memory: reading ([0-9]+) rows", text)
    result["rows_read"] = int(read.group(1)) if read else None
    result["files"] = json.loads((out / "manifest.json").read_text())["files"]
    result["out"] = str(out)
    return result


def same_artifact(actual: dict, expected: dict) -> str:
    """``identical`` (the same files), ``within tolerance`` (every array and table within
    ``anomaly.batch.train.TOLERANCE``, the same manifest less its time and digests) or
    ``**differs**``."""
    import numpy as np
    import pandas as pd

    from anomaly.batch.train import TOLERANCE

    if actual["files"] == expected["files"]:
        return "identical"
    paths = [Path(run["out"]) for run in (actual, expected)]
    manifests = [json.loads((path / "manifest.json").read_text()) for path in paths]
    for manifest in manifests:
        del manifest["created"], manifest["files"]
    try:
        assert manifests[0] == manifests[1]
        with np.load(paths[0] / "arrays.npz") as got, np.load(paths[1] / "arrays.npz") as want:
            assert sorted(got.files) == sorted(want.files)
            for name in want.files:
                np.testing.assert_allclose(got[name], want[name], **TOLERANCE)
        for table in paths[1].glob("*.parquet"):
            pd.testing.assert_frame_equal(
                pd.read_parquet(paths[0] / table.name), pd.read_parquet(table), **TOLERANCE
            )
    except AssertionError:
        return "**differs**"
    return "within tolerance"


def render(n_series: int, layouts: dict[str, dict], rows: int, command: str) -> str:
    lines = [
        f"## {n_series:,} series",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}",
        "",
        f"Input: {rows:,} rows ({n_series:,} series × 120 months, 2015-01..2024-12); "
        f"training window {TRAIN[0]}..{TRAIN[1]}.",
        "",
        "| layout | run | wall (s) | wall ÷ in memory | peak memory, all processes (GiB) | "
        "reading (s) | rows read (M) | reading (M rows read/s) | fit (s) | "
        "artifact as without options |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for layout, runs in layouts.items():
        reference = runs["no options"]
        for name, run in runs.items():
            steps = run["steps"]
            reading = sum(steps.get(name, 0) for name in STEPS[:3])
            same = same_artifact(run, reference)
            read = run.get("rows_read") or rows
            lines.append(
                f"| {layout} | {name} | {run['wall_s']:.1f} | "
                f"{run['wall_s'] / reference['wall_s']:.2f} | {run['peak_gib']:.2f} | "
                f"{reading:.1f} | {read / 1e6:.1f} | {read / reading / 1e6:.2f} | "
                f"{steps.get('training', float('nan')):.1f} | {same} |"
            )
    lines.append("")
    for layout, runs in layouts.items():
        local, dask = runs["--jobs 2"], runs["dask, 2 workers"]
        lines.append(
            f"- {layout}: `--jobs 2` {local['wall_s']:.0f} s and {local['peak_gib']:.1f} GiB "
            f"(targets at 10^6 series: under {TARGET_SECONDS} s and {TARGET_GIB} GiB); "
            f"Dask {dask['wall_s'] / local['wall_s']:.2f}× the local run (target 1.3×)."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 series")
    parser.add_argument("--sizes", type=int, nargs="+", help="numbers of series")
    parser.add_argument(
        "--layouts", nargs="+", choices=(*LAYOUTS, SMALL_GROUPS), default=list(LAYOUTS)
    )
    args = parser.parse_args()
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    command = "python experiments/bench_train.py" + (" --quick" if args.quick else "")
    if args.sizes:
        command += " --sizes " + " ".join(map(str, args.sizes))
    if args.layouts != list(LAYOUTS):
        command += " --layouts " + " ".join(args.layouts)
    for n_series in sizes:
        folder = DATA / f"bench_train_{n_series}"
        folder.mkdir(parents=True, exist_ok=True)
        layouts: dict[str, dict] = {}
        for layout in args.layouts:
            path = data_file(n_series, layout)
            layouts[layout] = {}
            for name, options in RUNS.items():
                print(f"{n_series:,} series, {layout}: {name} ...", flush=True)
                slug = re.sub(r"\W+", "-", f"{layout} {name}").strip("-")
                run = run_training(path, options, folder / slug, folder / f"{slug}.log")
                layouts[layout][name] = run
                print(json.dumps({k: v for k, v in run.items() if k != "files"}), flush=True)
        rows = 120 * n_series
        update_section(RESULTS, str(n_series), render(n_series, layouts, rows, command), TITLE)


if __name__ == "__main__":
    main()
