"""Coverage against sharpness: how near the pooled model's intervals can come to issue 15's
Winkler target.

Run from the repository root, with the benchmark extra (statsforecast) installed::

    python experiments/interval_frontier.py        # both parts, ~10 minutes

Issue 15 asks the 90% intervals to cover 88-92% of the months (at least 85% in every
bucket) *and* to have a median scaled Winkler score at most 0.8 times AutoETS's. The
median series' score is mostly the width of its interval, so the two pull apart: any
widening that buys coverage raises it. This script traces, on the rolling windows and
parts of ``experiments/backtest_splits.json`` (the windows of
``experiments/backtest_forecast.py``), the pooled model's median scaled Winkler score
(divided by AutoETS's on the same sampled series) against the coverage of its 90%
interval as the nominal coverage asked of the interval rule goes from 80% to 97%:

- **default**: ``PooledForecaster()``, whose error shapes and PIT recalibration are
  learned on held-out months at the end of each training window;
- **uncalibrated**: ``PooledForecaster(calibrate=False)``, normal errors in logs.

For each, it reports the lowest ratio of any nominal coverage whose interval covers at
least 88% of the months: the best this point model's intervals reach without giving
up coverage (reading the nominal on the part it is reported on, which is optimistic
for the bound). Nothing is chosen or tuned here: the script only measures.
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pandas as pd
from backtest_forecast import (
    ALPHA,
    COVERAGE_GRID,
    JUDGED_BUCKET,
    RESULTS,
    SPLITS,
    Window,
    backtest,
    coverage_by_bucket,
    source_panel,
)
from markdown_table import markdown

from anomaly.forecast import PooledForecaster
from anomaly.forecast.accuracy import scaled_winkler

#: Nominal coverages traced (a subset of the backtest's grid).
NOMINAL = np.round(np.arange(0.80, 0.9701, 0.01), 3)
#: The least coverage a point of the frontier must keep to count.
FLOOR = 0.88
TARGET_RATIO = 0.8


def uncalibrated_bounds(panel, spec: dict, origin: str, window: Window) -> np.ndarray:
    """``(n, h, 2, len(NOMINAL))`` intervals of the uncalibrated forecaster."""
    first = pd.Period(origin, freq="M") + 1
    last = first + (spec["horizon"] - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PooledForecaster(calibrate=False).fit(panel, spec["train_start"], origin)
        forecast = model.predict(first, last, series=window.rows)
        return np.stack([np.stack(forecast.interval(c), axis=-1) for c in NOMINAL], axis=-1)


def default_bounds(window: Window) -> np.ndarray:
    """The default forecaster's intervals at :data:`NOMINAL`, from the backtest's grid."""
    columns = [int(np.flatnonzero(np.isclose(COVERAGE_GRID, c))[0]) for c in NOMINAL]
    return window.bounds[..., columns]


def median_winkler(windows: list[Window], models: list[dict]) -> float:
    """Median scaled Winkler score of ``models``' intervals (one per window) over the
    sampled series of every window."""
    scores = [
        scaled_winkler(
            w.actual[w.sample], m["lower"][w.sample], m["upper"][w.sample], w.train[w.sample], ALPHA
        )
        for w, m in zip(windows, models, strict=True)
    ]
    return float(np.nanmedian(np.concatenate(scores)))


def frontier(windows: list[Window], bounds: list[np.ndarray]) -> pd.DataFrame:
    """Per nominal coverage: coverage (all series), lowest judged bucket, Winkler ratio."""
    reference = median_winkler(windows, [w.models["AutoETS"] for w in windows])
    rows = []
    for k, nominal in enumerate(NOMINAL):
        per_window = [{"lower": b[..., 0, k], "upper": b[..., 1, k]} for b in bounds]
        coverage = coverage_by_bucket(windows, per_window)
        judged = coverage.loc[coverage["observations"] >= JUDGED_BUCKET, "coverage"]
        rows.append(
            {
                "nominal": nominal,
                "coverage": float(
                    np.average(coverage["coverage"], weights=coverage["observations"])
                ),
                "lowest bucket": float(judged.min()) if len(judged) else np.nan,
                "Winkler ÷ AutoETS": median_winkler(windows, per_window) / reference,
            }
        )
    return pd.DataFrame(rows)


def best(table: pd.DataFrame) -> pd.Series | None:
    """The row of lowest Winkler ratio among those covering at least :data:`FLOOR`."""
    kept = table[table["coverage"] >= FLOOR]
    return None if kept.empty else kept.loc[kept["Winkler ÷ AutoETS"].idxmin()]


def main() -> None:
    splits = json.loads(SPLITS.read_text())
    sample = splits["slow_model_sample"]
    started = time.perf_counter()
    summary, sections = [], []
    for name, spec in splits["sources"].items():
        for part in ("development", "held_out"):
            panel, rows = source_panel(name, spec, part)
            windows = backtest(
                name, spec, part, sample["max_series"], sample["seed"], source=(panel, rows)
            )
            by_model = {
                "default": [default_bounds(w) for w in windows],
                "uncalibrated": [uncalibrated_bounds(panel, spec, w.label, w) for w in windows],
            }
            for model, bounds in by_model.items():
                table = frontier(windows, bounds)
                top = best(table)
                at_ninety = table.loc[(table["nominal"] - 0.9).abs().idxmin()]
                row = {"source": name, "part": part, "model": model}
                row["nominal 0.90: coverage"] = at_ninety["coverage"]
                row["nominal 0.90: Winkler ÷ AutoETS"] = at_ninety["Winkler ÷ AutoETS"]
                for column in ("nominal", "coverage", "lowest bucket", "Winkler ÷ AutoETS"):
                    label = f"best with coverage ≥ {FLOOR}: {column}"
                    row[label] = np.nan if top is None else top[column]
                summary.append(row)
                sections.append(f"### {name}, {part}, {model}\n\n{markdown(table.round(3))}\n")
    table = pd.DataFrame(summary).round(3)
    minutes = (time.perf_counter() - started) / 60
    text = "\n".join(
        [
            "# Interval frontier: coverage against the median scaled Winkler score\n",
            f"Command: `python experiments/interval_frontier.py` ({minutes:.1f} min). Windows "
            "and parts of `experiments/backtest_splits.json`; Winkler scores on the sampled "
            f"series of each window (at most {sample['max_series']}, seed {sample['seed']}), "
            "coverage on every series. Issue 15's target: coverage 88-92% (each bucket of "
            f"≥ {JUDGED_BUCKET} observations ≥ 85%) and a Winkler ratio ≤ {TARGET_RATIO}. "
            "See the script's docstring.\n",
            "## Summary\n",
            markdown(table),
            "",
            "## Frontiers\n",
            *sections,
        ]
    )
    path = RESULTS / "interval_frontier.md"
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
