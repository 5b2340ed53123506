"""Forecasting benchmark: speed and accuracy of the default model beside the references.

Run from the repository root, in the README's environment plus the benchmark extra::

    python -m pip install -e ".[test,bench]"
    python experiments/bench_forecast.py --quick      # ~3 minutes: 10^3 and 10^4 series
    python experiments/bench_forecast.py              # full: 10^3 .. 10^6 series

It writes ``experiments/results/bench_forecast.md`` (``--out`` to change) with:

1. **Speed**, in memory, fit + predict (expected value and 90% interval) of simulated
   series with 84 training and 36 forecast months: the default ``PooledForecaster`` on
   every size, statsmodels ETS and statsforecast AutoETS on a subset of each size (they
   take ~10-100 ms per series), as series per second and as ratios. Each size runs in a
   fresh process so its peak memory (max RSS) is its own.
2. **Accuracy on real data**: the Eurostat CHP exports, trained 2020-01..2021-06 and
   forecast 2021-07..2021-12 (all pre-war), HS6 series with trade in the training window.
3. **Accuracy on simulated data**: the simulator's pre-war world, trained 2015-01..2020-12
   (COVID dip included), forecast 2021-01..2021-12.

Accuracy measures per model: RMSSE and MASE (median and mean over series), pooled
coverage of the 90% interval, and the scaled interval (Winkler) score at α = 0.1 (mean,
5%-trimmed mean and median over series; scaled like MASE).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from markdown_table import markdown

from anomaly.evaluate import mase, pooled_coverage, rmsse, scaled_winkler
from anomaly.forecast import (
    ETSForecaster,
    PooledForecaster,
    PrewarMeanForecaster,
    SeasonalNaiveForecaster,
    UnobservedComponentsForecaster,
)
from anomaly.panel import Panel, build_panel

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TRAIN_MONTHS, HORIZON = 84, 36
#: Series per size on which the slow references are timed (full run, --quick run).
REFERENCE_SUBSET = {"ETS (statsmodels)": 100, "AutoETS (statsforecast)": 1000}
QUICK_SUBSET = {"ETS (statsmodels)": 30, "AutoETS (statsforecast)": 300}


# -- data ------------------------------------------------------------------------


def simulated_panel(n_series: int, seed: int = 0) -> Panel:
    """Pre-war simulated series, 2015-01 .. 2024-12 (no planted schemes needed)."""
    from anomaly.simulate import simulate_panel

    world = simulate_panel(n_series, seed=seed, schemes=False, decoys=False)
    return Panel(world.keys, world.periods, world.values, currency="EUR")


def eurostat_panel() -> Panel:
    from anomaly.io import read_flows

    return build_panel(read_flows(SHARED / "eurostat_chp_exports_2020_2022.csv"))


# -- models ----------------------------------------------------------------------


class AutoETSForecast:
    """statsforecast AutoETS fitted on the same matrix; mean and 90% interval."""

    def __init__(self, train: np.ndarray, horizon: int, n_jobs: int = 1) -> None:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS

        n, t = train.shape
        dates = pd.date_range("2000-01-01", periods=t, freq="MS")
        long = pd.DataFrame(
            {"unique_id": np.repeat(np.arange(n), t), "ds": np.tile(dates, n), "y": train.ravel()}
        )
        model = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=n_jobs)
        result = model.forecast(df=long, h=horizon, level=[90]).sort_values(["unique_id", "ds"])
        self.mean = result["AutoETS"].to_numpy().reshape(n, horizon)
        self.lower = np.maximum(result["AutoETS-lo-90"].to_numpy().reshape(n, horizon), 0)
        self.upper = np.maximum(result["AutoETS-hi-90"].to_numpy().reshape(n, horizon), 0)


def warm_up_statsforecast() -> None:
    """Compile statsforecast's numba code once, outside every timing."""
    rng = np.random.default_rng(0)
    AutoETSForecast(rng.gamma(2.0, 100.0, size=(3, 30)), 3)


def run_model(name: str, panel: Panel, train_end: str, start: str, end: str):
    """(mean, lower, upper) of one model on one panel."""
    if name == "AutoETS (statsforecast)":
        train = np.nan_to_num(panel.window(None, train_end).values.astype(np.float64))
        horizon = len(pd.period_range(start, end, freq="M"))
        fitted = AutoETSForecast(train, horizon)
        return fitted.mean, fitted.lower, fitted.upper
    forecaster = MODELS[name]().fit(panel, None, train_end)
    forecast = forecaster.predict(start, end)
    lower, upper = forecast.interval(0.9)
    return forecast.mean, lower, upper


MODELS = {
    "Pooled (anomaly default)": PooledForecaster,
    "ETS (statsmodels)": ETSForecaster,
    "Unobserved components (statsmodels)": UnobservedComponentsForecaster,
    "Pre-war mean": PrewarMeanForecaster,
    "Seasonal naive": SeasonalNaiveForecaster,
}
ACCURACY_MODELS = [*MODELS, "AutoETS (statsforecast)"]


# -- speed -----------------------------------------------------------------------


def speed_one(n_series: int, subsets: dict[str, int]) -> dict:
    """Time fit + predict of every model on ``n_series`` simulated series (one process)."""
    # The simulator adds mirror declarations on top of the exporters' series: keep
    # exactly n_series rows, so the table's sizes are the sizes timed.
    panel = simulated_panel(n_series).window("2015-01", "2021-12").select(np.arange(n_series))
    panel = Panel(panel.keys, panel.periods, panel.values.astype(np.float32), "EUR")
    out = {"n_series": n_series}
    started = time.perf_counter()
    forecast = PooledForecaster().fit(panel).predict("2022-01", "2024-12")
    _ = forecast.mean, forecast.interval(0.9)
    out["pooled_seconds"] = time.perf_counter() - started
    out["pooled_peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    rng = np.random.default_rng(0)
    for name, subset in subsets.items():
        rows = np.sort(rng.choice(n_series, size=min(subset, n_series), replace=False))
        part = panel.select(rows)
        started = time.perf_counter()
        if name.startswith("AutoETS"):
            warm_up_statsforecast()
            started = time.perf_counter()
            AutoETSForecast(np.nan_to_num(part.values.astype(np.float64)), HORIZON)
        else:
            fitted = ETSForecaster(max_horizon=HORIZON).fit(part)
            forecast = fitted.predict("2022-01", "2024-12")
            _ = forecast.mean, forecast.interval(0.9)
        out[f"{name} seconds"] = time.perf_counter() - started
        out[f"{name} series"] = len(rows)
    return out


def speed_table(sizes: list[int], quick: bool) -> pd.DataFrame:
    rows = []
    for n in sizes:
        result = subprocess.run(
            [sys.executable, __file__, "--speed-one", str(n), *(["--quick"] if quick else [])],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(f"speed {n}: {rows[-1]}", file=sys.stderr)
    table = []
    for r in rows:
        pooled_rate = r["n_series"] / r["pooled_seconds"]
        line = {
            "series": f"{r['n_series']:,}",
            "pooled fit+predict (s)": f"{r['pooled_seconds']:.2f}",
            "pooled peak memory (GiB)": f"{r['pooled_peak_gib']:.2f}",
            "pooled series/s": f"{pooled_rate:,.0f}",
        }
        for name in QUICK_SUBSET:
            rate = r[f"{name} series"] / r[f"{name} seconds"]
            line[f"{name} series/s (on {r[f'{name} series']:,})"] = f"{rate:,.1f}"
            line[f"pooled ÷ {name}"] = f"{pooled_rate / rate:,.0f}×"
        table.append(line)
    return pd.DataFrame(table)


# -- accuracy ----------------------------------------------------------------------


def accuracy_table(panel: Panel, train_end: str, start: str, end: str) -> pd.DataFrame:
    train = np.nan_to_num(panel.window(None, train_end).values.astype(np.float64))
    actual = np.nan_to_num(panel.window(start, end).values.astype(np.float64))
    keep = (train > 0).any(axis=1) & (np.abs(np.diff(train, axis=1)).sum(axis=1) > 0)
    rows = []
    for name in ACCURACY_MODELS:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mean, lower, upper = run_model(name, panel, train_end, start, end)
        seconds = time.perf_counter() - started
        a, t = actual[keep], train[keep]
        r = rmsse(a, mean[keep], t)
        m = mase(a, mean[keep], t)
        w = scaled_winkler(a, lower[keep], upper[keep], t, 0.1)
        rows.append(
            {
                "model": name,
                "series": int(keep.sum()),
                "RMSSE median": r,
                "RMSSE mean": r,
                "MASE median": m,
                "90% coverage": pooled_coverage(a, lower[keep], upper[keep]),
                "Winkler mean": w,
                "Winkler 5%-trimmed": w,
                "Winkler median": w,
                "seconds": seconds,
            }
        )
    table = pd.DataFrame(rows)
    for column in table.columns[2:]:
        if column in ("90% coverage", "seconds"):
            continue
        table[column] = [_aggregate(v, column) for v in table[column]]
    return table


def _aggregate(values: np.ndarray, column: str) -> float:
    values = values[np.isfinite(values)]
    if column.endswith("median"):
        return float(np.median(values))
    if column.endswith("trimmed"):
        lo, hi = np.quantile(values, [0.05, 0.95])
        return float(values[(values >= lo) & (values <= hi)].mean())
    return float(values.mean())


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import numpy
    import statsmodels

    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, pandas {pd.__version__}, statsmodels {statsmodels.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 series only")
    parser.add_argument("--speed-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", default=str(ROOT / "experiments" / "results" / "bench_forecast.md")
    )
    args = parser.parse_args()
    if args.speed_one:
        print(
            json.dumps(speed_one(args.speed_one, QUICK_SUBSET if args.quick else REFERENCE_SUBSET))
        )
        return

    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    sections = [f"# Forecasting benchmark\n\nMachine: {machine()}.\n"]
    sections.append(
        f"Command: `python experiments/bench_forecast.py{' --quick' if args.quick else ''}`\n"
    )
    speed = speed_table(sizes, args.quick)
    sections.append(
        "## Speed: fit + predict, 84 training + 36 forecast months\n\n" + markdown(speed) + "\n"
    )
    real = accuracy_table(eurostat_panel(), "2021-06", "2021-07", "2021-12")
    sections.append(
        "## Accuracy on real data: Eurostat CHP exports, HS6, train 2020-01..2021-06, "
        "forecast 2021-07..2021-12\n\n" + markdown(real) + "\n"
    )
    simulated = simulated_panel(300 if args.quick else 1_000)
    sim = accuracy_table(simulated, "2020-12", "2021-01", "2021-12")
    sections.append(
        "## Accuracy on simulated data: pre-war world, train 2015-01..2020-12, forecast "
        "2021-01..2021-12\n\n" + markdown(sim) + "\n"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(sections))
    print(out.read_text())


if __name__ == "__main__":
    main()
