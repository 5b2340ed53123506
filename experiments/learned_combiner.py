"""Would a combiner learned from labelled worlds rank better than the package's own
combination of calibrated p-values, and would it carry over to another family of worlds?

Run from the repository root::

    python experiments/learned_combiner.py --split development   # ~4 minutes
    python experiments/learned_combiner.py --split held_out      # ~7 minutes

The package combines its detectors' calibrated p-values by a fixed rule (the Cauchy
combination, :mod:`anomaly.detect.ensemble`), with no constant fitted on labels. The
obvious alternative is to learn the combination: a gradient-boosted classifier on every
evidence column of the leads (:data:`FEATURES`, the package's own score among them, the
signal flags and a few flags of the series' kind), trained on the in-scope series of
labelled worlds and ranking the series of other worlds (in-scope first, as the package
ranks them). This script measures it three ways on the worlds of
``experiments/worlds.json``:

- **within the public family**: trained on the public development worlds (on
  ``development``: all but the world scored, leave one world out) and scored on public
  worlds — another seed and quirk of the same generator;
- **from our simulator to the public family**: trained on the simulator's development
  worlds, scored on public worlds — a family written apart from the training one, as
  real data are;
- **from the public family to our simulator**: the other way round.

The first is what issue 12's public targets reward; the other two are what a user
scoring real data with a combiner learned on synthetic worlds would get. Real data have
no labels; the built-in Eurostat extract (EU exports of CHP goods, trained 2020–2021,
scored 2022-01..2022-11, as ``experiments/eurostat_chp_2022.py``) is ranked by both
learned combiners beside the package, and each top 50 is described: how many leads go
to Kyrgyzstan or Armenia (the published surges), how many are direct exports to Russia
or Belarus, and how many of those fell below their counterfactual (a fall read as a
lead). The package's
own ranking of the same worlds is shown beside them. Nothing here is used by the
package: it is a measurement of where its evidence's power lies (see the closing notes
of issue 12).

Writes ``experiments/results/learned_combiner_<split>.md``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from baselines import ranked_by
from generalisation import (
    CACHE,
    KEYS,
    RESULTS,
    WorldSpec,
    align_labels,
    build_world,
    fit_and_score,
    fmt,
    git_state,
    load_worlds,
    package_fingerprint,
    ranking_metrics,
)
from markdown_table import markdown
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance

from anomaly.demo import SCORE_WINDOW, TRAIN_WINDOW, demo_flows
from anomaly.model import TradeAnomalyModel

#: Numeric evidence columns of the leads the classifier reads (absent ones are missing).
FEATURES = (
    "score",
    "actual",
    "expected",
    "lower",
    "upper",
    "excess_value",
    "mirror_gap",
    "n_months",
    "stouffer_z",
    "persistence",
    "demand_factor",
    "trained_nonzero",
    "trained_months",
    "mirror_months",
    "mirror_sent",
    "mirror_received",
    "mirror_expected",
    "not_received",
    "log_departure",
    "baseline_value",
    "baseline_months",
    "traded_after_onset",
    "months_traded",
    "months_early",
    "months_traded_early",
    "z",
    "mirror_z",
    "baseline_ratio",
    "baseline_z",
    "regularity_z",
    "direct_drop",
    "direct_z",
    "substitution_share",
    "onward_ratio",
    "onward_z",
    "inflow_z",
    "hub_inflow_z",
    "hub_suppliers",
    "p_residual",
    "p_mirror",
    "p_isolation",
    "p_onward",
    "p_hub",
    "p_baseline",
    "p_regularity",
)
SANCTIONED = ("RUS", "BLR")
#: Leads described on the real data.
TOP = 50
METRICS = ("AUC-PR", "precision@50", "top 2%", "diffuse hub", "onward legs")
SEED = 0
#: Shuffles per input in the permutation importance, and inputs shown.
IMPORTANCE_REPEATS = 3
IMPORTANCE_SHOWN = 12
PACKAGE = "anomaly (its own combination)"
WITHIN = "learned within the public family"
FROM_SIMULATOR = "learned on our simulator"
FROM_PUBLIC = "learned on the public family"


def features(leads: pd.DataFrame, signals: list[str]) -> pd.DataFrame:
    """The classifier's inputs: :data:`FEATURES`, the log ratio of actual to expected,
    one flag per signal in ``signals`` and flags of the series' kind."""
    frame = leads.reindex(columns=list(FEATURES)).astype(np.float64)
    frame["log_ratio"] = np.log1p(leads["actual"]) - np.log1p(leads["expected"])
    fired = leads["signals"].fillna("").str.split(";")
    for name in signals:
        frame[f"signal_{name}"] = fired.map(lambda names, n=name: n in names).astype(np.float64)
    frame["export"] = leads["flow"].isin(["export", "re-export"]).astype(np.float64)
    frame["to_sanctioned"] = leads["partner"].isin(SANCTIONED).astype(np.float64)
    frame["into_hub"] = leads["hub"].notna().astype(np.float64)
    return frame.reset_index(drop=True)


def scored_world(spec: WorldSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The package's leads of one world, in rank order, and its aligned labels."""
    world = build_world(spec, CACHE)
    _, leads = fit_and_score(spec, world, world.controlled or "chp")
    labels, _ = align_labels(world.labels, leads, world.flows)
    return leads.sort_values("rank").reset_index(drop=True), labels


def planted(leads: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """Whether each series of ``leads`` is labelled."""
    keys = pd.MultiIndex.from_frame(leads[KEYS])
    return keys.isin(pd.MultiIndex.from_frame(labels[KEYS]))


def train(worlds: dict[str, tuple[pd.DataFrame, pd.DataFrame]], signals: list[str]):
    """A classifier fitted on the in-scope series of ``worlds``, on the inputs that vary
    there (it reads the same ones of the worlds it ranks: ``feature_names_in_``)."""
    inputs, targets = [], []
    for leads, labels in worlds.values():
        in_scope = leads["in_scope"].to_numpy(dtype=bool)
        inputs.append(features(leads, signals)[in_scope])
        targets.append(planted(leads, labels)[in_scope])
    classifier = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        random_state=SEED,
    )
    table = pd.concat(inputs, ignore_index=True)
    varying = [column for column in table.columns if table[column].nunique() > 1]
    return classifier.fit(table[varying], np.concatenate(targets))


def ranked_by_classifier(classifier, leads: pd.DataFrame, signals: list[str]) -> pd.DataFrame:
    """``leads`` ordered by the classifier's probability of a plant, as the baselines
    are ranked (:func:`baselines.ranked_by`: in-scope first, ties by the series' keys)."""
    return ranked_by(leads, classifier.predict_proba(inputs_of(classifier, leads, signals))[:, 1])


def inputs_of(classifier, leads: pd.DataFrame, signals: list[str]) -> pd.DataFrame:
    """The inputs of ``leads`` that ``classifier`` was fitted on, in its order."""
    return features(leads, signals)[list(classifier.feature_names_in_)]


def run_split(
    worlds: dict[str, dict[str, tuple[pd.DataFrame, pd.DataFrame]]],
    development: dict[str, dict[str, tuple[pd.DataFrame, pd.DataFrame]]],
    leave_one_out: bool,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Per world scored and method, its metrics; the inputs the within-family
    classifier leans on (:func:`importance`, mean over the public worlds scored); and
    the real data's top leads by the package and the two families' classifiers
    (:func:`real_data_top`).
    ``worlds`` and ``development`` map a family to its worlds' leads and labels;
    classifiers learn on ``development``."""
    signals = sorted(
        {
            name
            for family in development.values()
            for leads, _ in family.values()
            for names in leads["signals"].dropna().str.split(";")
            for name in names
            if name
        }
    )
    rows, importances = [], []

    def add(world: str, family: str, method: str, metrics: dict[str, float]) -> None:
        rows.append(
            {"world": world, "family": family, "method": method} | {m: metrics[m] for m in METRICS}
        )

    from_simulator = train(development["simulator"], signals)
    from_public = train(development["public"], signals)
    for name, (leads, labels) in worlds["public"].items():
        add(name, "public", PACKAGE, ranking_metrics(leads, labels))
        others = {n: w for n, w in development["public"].items() if n != name}
        within = train(others, signals) if leave_one_out else from_public
        add(
            name,
            "public",
            WITHIN,
            ranking_metrics(ranked_by_classifier(within, leads, signals), labels),
        )
        importances.append(importance(within, leads, labels, signals))
        by_simulator = ranked_by_classifier(from_simulator, leads, signals)
        add(name, "public", FROM_SIMULATOR, ranking_metrics(by_simulator, labels))
        print(name, "done", flush=True)
    for name, (leads, labels) in worlds["simulator"].items():
        add(name, "simulator", PACKAGE, ranking_metrics(leads, labels))
        by_public = ranked_by_classifier(from_public, leads, signals)
        add(name, "simulator", FROM_PUBLIC, ranking_metrics(by_public, labels))
        print(name, "done", flush=True)
    mean_importance = pd.concat(importances, axis=1).fillna(0.0).mean(axis=1)
    real = real_data_top({FROM_PUBLIC: from_public, FROM_SIMULATOR: from_simulator}, signals)
    return pd.DataFrame(rows), mean_importance.sort_values(ascending=False), real


def real_data_top(classifiers: dict[str, HistGradientBoostingClassifier], signals) -> pd.DataFrame:
    """The top :data:`TOP` leads of the built-in Eurostat data, ranked by the package and
    by each of ``classifiers`` (in-scope first), described as in the module docstring."""
    flows = demo_flows()
    model = TradeAnomalyModel(random_state=SEED).fit(flows, *TRAIN_WINDOW)
    leads = model.score(flows, *SCORE_WINDOW).leads.sort_values("rank").reset_index(drop=True)
    package_top = set(leads.head(TOP).index)
    rankings = {PACKAGE: leads}
    for method, classifier in classifiers.items():
        rankings[method] = ranked_by_classifier(classifier, leads, signals)
    rows = []
    for method, ranked in rankings.items():
        top = ranked.head(TOP)
        direct = top["partner"].isin(SANCTIONED)
        rows.append(
            {
                "ranked by": method,
                "to Kyrgyzstan or Armenia": int(top["partner"].isin(["KGZ", "ARM"]).sum()),
                "to Kazakhstan": int(top["partner"].eq("KAZ").sum()),
                "to Russia or Belarus": int(direct.sum()),
                "of which fell (below expected)": int(
                    (direct & (top["actual"] < top["expected"])).sum()
                ),
                f"also in the package's top {TOP}": len(package_top & set(top.index)),
            }
        )
    return pd.DataFrame(rows)


def importance(classifier, leads, labels, signals) -> pd.Series:
    """How much the classifier's average precision on ``leads``' in-scope series falls
    when one input is shuffled (scikit-learn's permutation importance)."""
    in_scope = leads["in_scope"].to_numpy(dtype=bool)
    inputs = inputs_of(classifier, leads, signals)[in_scope]
    result = permutation_importance(
        classifier,
        inputs,
        planted(leads, labels)[in_scope],
        scoring="average_precision",
        n_repeats=IMPORTANCE_REPEATS,
        random_state=SEED,
    )
    return pd.Series(result.importances_mean, index=inputs.columns)


def scored_split(split: str) -> dict[str, dict[str, tuple[pd.DataFrame, pd.DataFrame]]]:
    """Leads and labels of every world of ``split`` with plants, by family."""
    worlds: dict[str, dict[str, tuple[pd.DataFrame, pd.DataFrame]]] = {
        "public": {},
        "simulator": {},
    }
    for spec in load_worlds(split):
        if spec.placebo:
            continue
        worlds[spec.family][spec.name] = scored_world(spec)
        print(spec.name, "scored", flush=True)
    return worlds


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Median [min–max] of each metric per family and method."""
    grouped = table.groupby(["family", "method"], sort=False)[list(METRICS)]
    stats = grouped.agg(["median", "min", "max"])
    sizes = grouped.size()
    rows = []
    for (family, method), r in stats.iterrows():
        rows.append(
            {"family scored": family, "method": method, "worlds": int(sizes[(family, method)])}
            | {
                m: f"{fmt(r[(m, 'median')])} [{fmt(r[(m, 'min')])}–{fmt(r[(m, 'max')])}]"
                for m in METRICS
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("development", "held_out"), default="development")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sources = package_fingerprint()
    development = scored_split("development")
    worlds = development if args.split == "development" else scored_split(args.split)
    leave_one_out = args.split == "development"
    table, leaned_on, real = run_split(worlds, development, leave_one_out)
    minutes = (time.perf_counter() - started) / 60
    within = (
        "all the other public development worlds (leave one world out)"
        if args.split == "development"
        else "all the public development worlds"
    )
    text = "\n".join(
        [
            f"# Learned combiner: the `{args.split}` split\n",
            f"Command: `python experiments/learned_combiner.py --split {args.split}` — "
            f"package at {git_state()} (sources sha256 {sources}…); {minutes:.1f} minutes. "
            "A gradient-boosted classifier (scikit-learn `HistGradientBoostingClassifier`, "
            f"random_state={SEED}) on the leads' evidence columns, trained on the in-scope "
            "series of labelled development worlds; each world's series ranked by it, "
            "in-scope first (module docstring). "
            f"*{WITHIN}*: trained on {within}; *{FROM_SIMULATOR}*: on the simulator's "
            f"development worlds; *{FROM_PUBLIC}*: on the public development worlds. "
            "Median [min–max] over the worlds scored:\n",
            markdown(summary(table)) + "\n",
            "## What the within-family combiner leans on\n",
            "Fall in average precision (in-scope series) when one input is shuffled, mean "
            f"over the public worlds scored, {IMPORTANCE_REPEATS} shuffles each (scikit-learn "
            f"`permutation_importance`); the {IMPORTANCE_SHOWN} largest:\n",
            markdown(
                leaned_on.head(IMPORTANCE_SHOWN)
                .rename("fall in average precision")
                .rename_axis("input")
                .reset_index()
                .map(fmt)
            )
            + "\n",
            "## Real data: the built-in Eurostat extract, scored 2022-01..2022-11\n",
            f"The top {TOP} leads of each ranking (no labels: what an analyst would read "
            f"first). *{FROM_PUBLIC}* and *{FROM_SIMULATOR}*: the classifiers trained on "
            "all the development worlds of that family:\n",
            markdown(real.map(fmt)) + "\n",
            "## Per world\n",
            markdown(table.map(fmt)) + "\n",
        ]
    )
    out = RESULTS / f"learned_combiner_{args.split}.md"
    partial = out.with_suffix(".md.partial")
    partial.write_text(text)
    partial.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
