"""What a test of one series at a time finds in the public world when it knows how the
world was drawn: a reference for issue 12's targets on its independent family.

Run from the repository root::

    python experiments/detection_oracle.py --split held_out      # ~1 minute per world
    python experiments/detection_oracle.py --split development

The public world (``../shared/worlds/public_world.py``) draws each series as a random
walk in logs with drift, a seasonal harmonic, Student-t noise and zero months, then
applies its decoys (legitimate level shifts, the collapse of coalition exports to
Russia, neutral suppliers' gains, a demand boom, one-off shipments) and its schemes.
This script runs the generator in-process with a profile hook that records, for every
series, its parameters, its random walk and its path before the decoys; it checks that
the run reproduces the cached world file exactly, and runs it again without schemes for
the counterfactual paths.

**The oracle** knows, for every series: its parameters (level, drift, volatility,
season, share of zero months), its random walk's state at the end of the training
window and its decoys' realised multipliers (a one-off shipment on a month the path
left at zero is lost) — not the shocks after training. It draws :data:`N_SIM`
continuations of the counterfactual path (a merged HS2022 family: the sum of its
members') and scores the declared window total against them: ``z`` of its log against
theirs. Imports are scaled by the mirror's mean markup (not each series' own, nor the
one-month delay of a quarter of them) over the months their reporter declares. A flow
that the counterfactual does not have (a new flow, a new onward leg) gets ``+inf``
when it traded. Series are ranked in-scope first, as the package ranks them, with the
world's own controlled goods (:func:`generalisation.public_controlled_goods`).

It reads what **one series at a time** holds — a surge test whose null is known
exactly. It is not a strict bound (its statistic, the window total, is not the most
powerful test against every scheme's shape), and it says nothing of what pooling
evidence across series can find (the mirror declaration of a phantom export, a hub's
inflow beside its onward leg), which is what the package adds; the package's ranking
of the same world is shown beside it.

Writes ``experiments/results/detection_oracle_<split>.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from generalisation import (
    CACHE,
    KEYS,
    PUBLIC_WORLD,
    RESULTS,
    SANCTIONED,
    World,
    WorldSpec,
    align_labels,
    build_world,
    fit_and_score,
    fmt,
    load_worlds,
    public_world,
    ranking_metrics,
    window_matrices,
)
from markdown_table import markdown

from anomaly.reference import split_families

#: Continuations of each counterfactual path drawn by the oracle.
N_SIM = 300
#: The generator's mean markup of an importer's declaration over the exporter's.
MIRROR_MARKUP = 1.07
METRICS = ("AUC-PR", "precision@50", "top 2%", "diffuse hub", "onward legs", "transshipment")
SEED = 0


def run_generator(spec: WorldSpec, out: Path, no_schemes: bool) -> tuple[dict, dict]:
    """Run the public world's generator in-process; return each series' recorded
    parameters (keyed ``(exporter, importer, hs)``) and the generator's final state
    (``truth``, ``months``)."""
    module_spec = importlib.util.spec_from_file_location("public_world", PUBLIC_WORLD)
    generator = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(generator)
    params: dict = {}
    state: dict = {}

    def record(frame, event, value):  # the profile hook
        if event != "return":
            return
        caller = frame.f_back
        if frame.f_code.co_name == "series" and caller and caller.f_code.co_name == "main":
            local, outer = frame.f_locals, caller.f_locals
            names = ("level", "trend", "vol", "season", "phase", "walk", "zero_share")
            drawn = {name: local[name] for name in names}
            drawn["raw"] = np.array(value, dtype=np.float64)  # before the decoys
            params[(outer["exp"], outer["par"], outer["hs"])] = drawn
        elif frame.f_code.co_name == "main":
            state.update({k: frame.f_locals[k] for k in ("truth", "months")})

    argv = [str(PUBLIC_WORLD), str(out), "--seed", str(spec.seed)]
    if spec.quirks:
        argv += ["--quirks", ",".join(sorted(spec.quirks))]
    if no_schemes:
        argv.append("--no-schemes")
    saved = sys.argv
    sys.argv = argv
    sys.setprofile(record)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            generator.main()
    finally:
        sys.setprofile(None)
        sys.argv = saved
    return params, state


def oracle_z(
    leads: pd.DataFrame,
    observed: np.ndarray,
    world: World,
    spec: WorldSpec,
    params: dict,
    state: dict,
) -> np.ndarray:
    """The oracle's z of every series of ``leads``, whose declared window totals are
    ``observed`` (see the module docstring). Its random draws are taken series by
    series in the order of their keys, so they do not depend on the package's ranking."""
    months = state["months"]
    counterfactual = state["truth"]
    start, end = months.index(spec.score[0]), months.index(spec.score[1]) + 1
    origin = months.index(spec.train[1])
    if origin >= start:
        raise ValueError(f"{spec.name}: the scoring window must start after training")
    members: dict[str, list[str]] = {}
    for code, primary in split_families().items():
        members.setdefault(primary, []).append(code)
    rng = np.random.default_rng(SEED)
    ahead = np.arange(origin + 1, len(months))
    z = np.full(len(leads), np.nan)
    keys = leads[KEYS].astype(str).to_numpy()
    for i in np.lexsort(keys.T[::-1]):
        reporter, partner, flow, hs = keys[i]
        exporter, importer = (reporter, partner) if flow == "export" else (partner, reporter)
        # A merged HS2022 family is the sum of its members' paths.
        codes = dict.fromkeys([hs, *members.get(hs, [])])
        found = [
            (exporter, importer, code)
            for code in codes
            if (exporter, importer, code) in params and (exporter, importer, code) in counterfactual
        ]
        if not found:  # the counterfactual has no such flow
            z[i] = np.inf if observed[i] > 0 else 0.0
            continue
        paths = sum(
            _continuations(params[key], counterfactual[key], origin, ahead, rng) for key in found
        )
        paths = paths[:, start - origin - 1 : end - origin - 1]
        if flow == "import":
            paths = paths * MIRROR_MARKUP
            declared_to = _last_declared_month(reporter, spec, world, months)
            paths = paths[:, : months.index(declared_to) - start + 1]
        totals = np.log1p(paths.sum(axis=1))
        spread = totals.std()
        z[i] = (np.log1p(observed[i]) - totals.mean()) / spread if spread > 0 else 0.0
    return z


def _continuations(
    drawn: dict,
    counterfactual: np.ndarray,
    origin: int,
    ahead: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """:data:`N_SIM` draws of one series' counterfactual path after ``origin``: its random
    walk continued from its state there, with its season, noise and zero months, times
    its decoys' realised multipliers."""
    with np.errstate(divide="ignore", invalid="ignore"):
        multiplier = np.where(drawn["raw"] > 0, counterfactual / drawn["raw"], np.nan)
    multiplier = pd.Series(multiplier).ffill().bfill().fillna(1.0).to_numpy()
    steps = rng.normal(drawn["trend"] / 12, drawn["vol"] / 4, (N_SIM, len(ahead)))
    log = drawn["level"] + drawn["walk"][origin] + steps.cumsum(axis=1)
    log += drawn["season"] * np.cos(2 * np.pi * ahead / 12 + drawn["phase"])
    log += 0.35 * drawn["vol"] * rng.standard_t(4, log.shape)
    paths = np.exp(log) * (rng.random(log.shape) >= drawn["zero_share"])
    return paths * multiplier[ahead]


def _last_declared_month(reporter: str, spec: WorldSpec, world: World, months: list) -> str:
    """The last month an importer declares: Russia and Belarus stop after January 2022
    (February under ``partial-stop``), a lagged reporter two months before the end."""
    if reporter in SANCTIONED:
        return "2022-02" if "partial-stop" in spec.quirks else "2022-01"
    if reporter in world.lagged:
        return months[months.index(spec.score[1]) - 2]
    return spec.score[1]


def evaluate(spec: WorldSpec) -> dict[str, dict[str, float]]:
    """The package's and the oracle's metrics on one public world."""
    world = build_world(spec, CACHE)
    with tempfile.TemporaryDirectory() as scratch:
        params, state = run_generator(spec, Path(scratch) / "world", no_schemes=False)
        rerun = pd.read_csv(Path(scratch) / "world" / "flows.csv", dtype=str)
        cached = pd.read_csv(public_world(spec, CACHE) / "flows.csv", dtype=str)
        if not rerun.equals(cached):
            raise RuntimeError(f"{spec.name}: the in-process run does not reproduce the world")
        _, without = run_generator(spec, Path(scratch) / "counterfactual", no_schemes=True)
    state["truth"] = without["truth"]
    model, leads = fit_and_score(spec, world, world.controlled)
    labels, _ = align_labels(world.labels, leads, world.flows)
    leads = leads.reset_index(drop=True)
    train = tuple(pd.Period(month, freq="M") for month in model.train_window_)
    score = tuple(pd.Period(month, freq="M") for month in spec.score)
    _, window, _ = window_matrices(world.flows, leads, train, score, model.hs_level)
    z = oracle_z(leads, window.sum(axis=1), world, spec, params, state)
    outside = ~leads["in_scope"].to_numpy(dtype=bool)
    # Ties (new flows read at +inf) are broken by the series' keys, not the package's order.
    by_oracle = leads.assign(_outside=outside, _z=z).sort_values(
        ["_outside", "_z", "reporter", "partner", "flow", "hs"],
        ascending=[True, False, True, True, True, True],
    )
    return {
        "anomaly": ranking_metrics(leads.sort_values("rank"), labels),
        "oracle (one series at a time)": ranking_metrics(by_oracle, labels),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("development", "held_out"), default="held_out")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = []
    for spec in load_worlds(args.split):
        if spec.family != "public" or spec.placebo:
            continue
        for method, metrics in evaluate(spec).items():
            rows.append({"world": spec.name, "method": method, **{m: metrics[m] for m in METRICS}})
            print(spec.name, method, f"AUC-PR {metrics['AUC-PR']:.3f}", flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("method", sort=False)[list(METRICS)].agg(["median", "min", "max"])
    summary_rows = [
        {"method": method}
        | {
            m: f"{fmt(r[(m, 'median')])} [{fmt(r[(m, 'min')])}–{fmt(r[(m, 'max')])}]"
            for m in METRICS
        }
        for method, r in summary.iterrows()
    ]
    minutes = (time.perf_counter() - started) / 60
    text = "\n".join(
        [
            f"# Detection oracle: the `{args.split}` split, public worlds\n",
            f"Command: `python experiments/detection_oracle.py --split {args.split}` "
            f"({minutes:.1f} minutes). The oracle knows each series' parameters, its state "
            "at the end of training and its decoys, not the later shocks, and tests each "
            "series alone (module docstring). Median [min–max] over the worlds:\n",
            markdown(pd.DataFrame(summary_rows)) + "\n",
            "## Per world\n",
            markdown(table.map(fmt)) + "\n",
        ]
    )
    out = RESULTS / f"detection_oracle_{args.split}.md"
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
