"""Detection quality across frozen evaluation worlds: develop on some, report on others.

Run from the repository root::

    python experiments/generalisation.py --split development   # choose settings here
    python experiments/generalisation.py --split held_out      # report these, untouched
    python experiments/generalisation.py --split held_out --quick   # a smoke run

The worlds are listed in ``experiments/worlds.json``, frozen before any tuning (issues
11 and 12), in two families: the package's own simulator
(:func:`anomaly.simulate.simulate_world`, with varied seeds, noise, intermittency,
scheme and decoy strengths and the quirks of real files) and the independent world of
``../shared/worlds/public_world.py`` (run as a subprocess into a cache directory, never
imported), with its quirk combinations and a no-schemes placebo.

For every world of the split: build or read it, fit ``TradeAnomalyModel()`` on its
training window, score its scoring window and measure the ranking against the planted
labels, beside the baselines of issue 12 ranked over the same series (in-scope series
first, as ``experiments/detection_quality.py`` does):

- **AUC-PR** (average precision), **precision@50**, **top 2%**: the share of planted
  evasion series ranked within the top 2% of the series; labelled series the model
  did not score count as ranked last;
- the top-2% share **per scheme** (the world's labels mapped onto common names:
  transshipment, phantom, diffuse hub, new flow, onward for the public world's onward
  scheme) and for **onward legs**: every labelled export to Russia or Belarus (the hub's
  onward leg of any scheme);
- **placebo in-scope alert rate** on worlds without planted evasion (the documented
  false-alarm rate is 0.01; issue 12 allows 1.5×);
- **falls read as surges**: top-50 leads that are exports to Russia or Belarus whose
  actual value is below the expected one (must be 0 on all-sanctioned worlds), and of
  those, how many carry the ``surge`` signal;
- **quirk artifacts** in the top 50 on quirk worlds: leads that are not planted
  evasion and that the quirk explains (:func:`quirk_artifacts` defines each);
- the baselines: the **pre-war-mean growth ratio** (window mean over training mean),
  an **isolation forest on that growth**, and the **AutoETS 90% interval rule** on
  in-scope series where ``worlds.json`` asks for it (about 20 s per 1,000 series on
  two cores, so only on a few worlds) and statsforecast is installed.

**Controlled goods.** A public world sanctions its own list of goods (its generator's
``CHP``: 38 codes of the official Common High Priority list and two that are not,
847989 and 903089); its coalition's exports of those goods to Russia collapse and its
schemes move only those goods. The model is told that list
(``TradeAnomalyModel(controlled=...)``, as a user passes ``--controlled FILE``), read
from the generator's source by :func:`public_controlled_goods`. The row ``anomaly,
default controlled list`` scores the same world with the package's default list
(``controlled="chp"``), which leaves the schemes in the two other goods out of scope.
Simulator worlds use the package's default list, which their simulator sanctions.

**Labels.** Both families count both declarations of a planted flow (the supplier's
export and the hub's import) where the hub records it. The public world's file omits
the hub's import for its ``newflow`` scheme only; :func:`with_hub_imports_of_new_flows`
adds it, and the row ``anomaly, public labels as written`` scores the same ranking
against the file's labels unchanged.

It writes ``experiments/results/generalisation_<split>.md``: a summary (median and
range over the worlds of each family), then one table per world. ``--quick`` (a
quarter-size simulator world, the first two public worlds, no AutoETS), ``--world``
and ``--autoets all|none`` write to a file with a ``_quick``/``_partial``/``_autoets_*``
suffix instead, so that a smoke run never replaces a reported result. A world that
fails is reported with the last lines of its traceback and the run goes on.

Everything is seeded: the worlds by their seeds, the model by its ``random_state``
(0), the isolation forest by ``random_state=0``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from baselines import (
    interval_rule,
    isolation_forest_on_growth,
    prewar_mean_growth,
    ranked_by,
    statsforecast_installed,
)
from markdown_table import markdown

from anomaly.evaluate import detection_report
from anomaly.io import read_flows
from anomaly.model import TradeAnomalyModel
from anomaly.panel import build_panel
from anomaly.reference import split_families
from anomaly.simulate import SimulationConfig, simulate_world

ROOT = Path(__file__).resolve().parents[1]
WORLDS_FILE = ROOT / "experiments" / "worlds.json"
PUBLIC_WORLD = ROOT.parent / "shared" / "worlds" / "public_world.py"
RESULTS = ROOT / "experiments" / "results"
CACHE = ROOT / "experiments" / ".data" / "generalisation"

KEYS = ["reporter", "partner", "flow", "hs"]
SANCTIONED = ("RUS", "BLR")
TOP_K = 50
TOP_FRACTION = 0.02
DOCUMENTED_FALSE_ALARM_RATE = 0.01
# A late-start artifact: a surge that is none against the months the data cover.
LATE_START_GROWTH = 1.5
QUICK_SHRINK = 4
QUICK_PUBLIC_WORLDS = 2

#: The worlds' scheme names mapped onto the names the tables use.
SCHEME_NAMES = {
    "transshipment": "transshipment",
    "transship": "transshipment",
    "phantom_export": "phantom",
    "phantom": "phantom",
    "diffuse_hub": "diffuse hub",
    "diffuse": "diffuse hub",
    "from_nothing": "new flow",
    "newflow": "new flow",
    "onward": "onward",
}
SCHEME_COLUMNS = ("transshipment", "phantom", "diffuse hub", "new flow", "onward", "onward legs")
QUIRK_NAMES = ("partial-stop", "lag", "revision-gap", "late-start")
#: The package's ranking scored against a public world's labels as its file has them.
AS_WRITTEN = "anomaly, public labels as written"
#: The package fitted with its default controlled goods on a public world, whose own
#: controlled goods differ (:func:`public_controlled_goods`).
DEFAULT_LIST = "anomaly, default controlled list"
METHODS = (
    "anomaly",
    AS_WRITTEN,
    DEFAULT_LIST,
    "growth ratio",
    "isolation forest on growth",
    "AutoETS interval rule",
)


# -- the worlds ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorldSpec:
    """One world of ``worlds.json``.

    Attributes
    ----------
    name, family, note : str
        Its name, ``simulator`` or ``public``, and what sets it apart.
    seed : int
        The world's seed.
    train : tuple of (str or None, str)
        Training window; a ``None`` start means the package's default.
    score : tuple of (str, str)
        Scoring window.
    autoets : bool
        Whether to run the AutoETS interval-rule baseline on it.
    settings : dict
        The rest of its entry: ``n_series, end, schemes, decoys, config`` for the
        simulator, ``quirks, no_schemes`` for the public world.
    """

    name: str
    family: str
    note: str
    seed: int
    train: tuple[str | None, str]
    score: tuple[str, str]
    autoets: bool
    settings: dict

    @classmethod
    def from_entry(cls, entry: dict) -> WorldSpec:
        """Read one entry of ``worlds.json``."""
        fixed = {"name", "family", "note", "seed", "train", "score", "autoets"}
        if entry["family"] not in ("simulator", "public"):
            raise ValueError(f"{entry['name']}: unknown family {entry['family']!r}")
        return cls(
            name=entry["name"],
            family=entry["family"],
            note=entry.get("note", ""),
            seed=int(entry["seed"]),
            train=(entry["train"][0], entry["train"][1]),
            score=(entry["score"][0], entry["score"][1]),
            autoets=bool(entry.get("autoets", False)),
            settings={k: v for k, v in entry.items() if k not in fixed},
        )

    @property
    def quirks(self) -> frozenset[str]:
        """The world's quirks, in either family."""
        if self.family == "public":
            return frozenset(self.settings.get("quirks", []))
        return SimulationConfig(**self.settings.get("config", {})).quirks

    @property
    def placebo(self) -> bool:
        """Whether no evasion is planted."""
        if self.family == "public":
            return bool(self.settings.get("no_schemes", False))
        return not self.settings.get("schemes", True)

    def describe(self, quick: bool = False) -> str:
        """How to build the world, as code or a command line."""
        if self.family == "public":
            quirks = ",".join(self.settings.get("quirks", []))
            return (
                f"`python ../shared/worlds/public_world.py OUT --seed {self.seed}"
                + (f" --quirks {quirks}" if quirks else "")
                + (" --no-schemes" if self.placebo else "")
                + "`"
            )
        s = self.settings
        config = ", ".join(f"{k}={v!r}" for k, v in s.get("config", {}).items())
        flags = "".join(
            f", {name}=False" for name in ("schemes", "decoys") if not s.get(name, True)
        )
        return (
            f"`simulate_world({self.n_series(quick)}, seed={self.seed}, end={s['end']!r}{flags}"
            + (f", config=SimulationConfig({config})" if config else "")
            + ")`"
        )

    def n_series(self, quick: bool = False) -> int:
        """Exporter series of a simulator world (a quarter with ``quick``)."""
        n = int(self.settings["n_series"])
        return max(2_000, n // QUICK_SHRINK) if quick else n


def load_worlds(split: str, path: Path = WORLDS_FILE) -> list[WorldSpec]:
    """The worlds of ``split`` (``development`` or ``held_out``), in file order."""
    document = json.loads(path.read_text())
    if split not in ("development", "held_out"):
        raise ValueError(f"unknown split {split!r}")
    specs = [WorldSpec.from_entry(entry) for entry in document[split]]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate world names in {split}")
    return specs


@dataclass
class World:
    """A world ready to score.

    Attributes
    ----------
    flows : pandas.DataFrame
        The canonical flows table.
    labels : pandas.DataFrame
        Planted evasion series: ``reporter, partner, flow, hs, scheme`` (decoys left
        out), scheme names as in :data:`SCHEME_NAMES`.
    stopping : set of str
        Reporters whose last month is partial (``partial-stop``).
    lagged : set of str
        Reporters that have not yet published the last months (``lag``).
    labels_as_written : pandas.DataFrame or None
        A public world's labels as its ``labels.csv`` has them (``labels`` adds the
        hub's imports of new flows, :func:`with_hub_imports_of_new_flows`); None for a
        simulator world.
    controlled : tuple of str or None
        The goods the world sanctions, given to the model (a public world's:
        :func:`public_controlled_goods`); None: the package's default list.
    seconds : float
        Time to build or read it.
    """

    flows: pd.DataFrame
    labels: pd.DataFrame
    stopping: set[str] = field(default_factory=set)
    lagged: set[str] = field(default_factory=set)
    labels_as_written: pd.DataFrame | None = None
    controlled: tuple[str, ...] | None = None
    seconds: float = 0.0


def quirk_free_twin(spec: WorldSpec) -> WorldSpec | None:
    """The same world without its quirks of files (:data:`QUIRK_NAMES`), to measure
    what they cost; ``None`` for a world without such quirks, a placebo, or a public
    world whose quirk changes the world itself.

    The simulator draws each quirk from its own random stream, so its twin is exactly
    the world the quirk was applied to (``all-sanctioned``, a setting of the world, is
    kept). The public world draws its declarations after its flows and schemes, so its
    twin has the same flows and schemes with other declaration noise; its
    ``late-start`` draws another world altogether (no twin). A twin trains from the
    same month as the world, or from its own first month where the world did.
    """
    if spec.placebo or not spec.quirks & set(QUIRK_NAMES):
        return None
    settings = json.loads(json.dumps(spec.settings))
    if spec.family == "public":
        if "late-start" in spec.quirks:
            return None
        settings["quirks"] = [q for q in settings["quirks"] if q not in QUIRK_NAMES]
    else:
        config = settings["config"]
        config["quirks"] = [q for q in config.get("quirks", []) if q not in QUIRK_NAMES]
        if "late-start" in spec.quirks:
            config.pop("late_start", None)
    return replace(spec, name=f"{spec.name} (quirk-free twin)", settings=settings)


def build_world(spec: WorldSpec, cache: Path, quick: bool = False) -> World:
    """Simulate a simulator world, or generate (once, cached) and read a public one."""
    started = time.perf_counter()
    if spec.family == "simulator":
        s = spec.settings
        simulated = simulate_world(
            spec.n_series(quick),
            seed=spec.seed,
            end=s["end"],
            schemes=s.get("schemes", True),
            decoys=s.get("decoys", True),
            config=SimulationConfig(**s.get("config", {})),
        )
        labels = simulated.labels[simulated.labels["evasion"]]
        coverage = simulated.coverage
        world = World(
            simulated.flows,
            labels[[*KEYS, "scheme"]].reset_index(drop=True),
            stopping=set(coverage.partial),
            lagged=set(coverage.lagged),
        )
    else:
        directory = public_world(spec, cache)
        info = json.loads((directory / "world.json").read_text())
        written = pd.read_csv(directory / "labels.csv", dtype=str)[[*KEYS, "scheme"]]
        world = World(
            read_flows(directory / "flows.csv"),
            with_hub_imports_of_new_flows(written),
            stopping=set(SANCTIONED) if "partial-stop" in spec.quirks else set(),
            lagged=set(info.get("lagged_reporters", [])),
            labels_as_written=written.assign(scheme=written["scheme"].map(SCHEME_NAMES)),
            controlled=public_controlled_goods(),
        )
    world.labels = world.labels.assign(scheme=world.labels["scheme"].map(SCHEME_NAMES))
    world.seconds = time.perf_counter() - started
    return world


def public_controlled_goods(path: Path = PUBLIC_WORLD) -> tuple[str, ...]:
    """The goods the public world sanctions: its generator's ``CHP`` list, parsed from its
    source without running it."""
    for node in ast.parse(path.read_text()).body:
        names = [getattr(target, "id", "") for target in getattr(node, "targets", [])]
        if isinstance(node, ast.Assign) and names == ["CHP"]:
            return tuple(ast.literal_eval(node.value))
    raise ValueError(f"{path}: no CHP list of controlled goods found")


def with_hub_imports_of_new_flows(labels: pd.DataFrame) -> pd.DataFrame:
    """A public world's labels with the hub's own declaration of each planted new flow.

    ``public_world.py`` labels both declarations of the flows its transshipment and
    diffuse schemes raise (the supplier's export and the hub's import), and its README
    says the labels hold "the hub's imports"; but its ``newflow`` scheme labels only the
    supplier's export, though the hub declares the same new shipments as imports. The
    package's simulator labels both declarations of a planted new flow
    (``new_import``), so both families are scored by one convention: the hub's import
    of a planted new flow is planted too. Phantom exports stay export-only (the hub
    never records them). An added import the world does not declare is left out by
    :func:`align_labels`, as any labelled series without rows.
    """
    new = labels[labels["scheme"] == "newflow"]
    imports = pd.DataFrame(
        {
            "reporter": new["partner"],
            "partner": new["reporter"],
            "flow": "import",
            "hs": new["hs"],
            "scheme": new["scheme"],
        }
    )
    return pd.concat([labels, imports], ignore_index=True).drop_duplicates(KEYS)


def public_world(spec: WorldSpec, cache: Path) -> Path:
    """The directory of a public world, generated by a subprocess if not cached.

    The cache key holds the seed, the quirks and the sha256 of ``public_world.py``, so
    a changed generator makes new worlds.
    """
    digest = hashlib.sha256(PUBLIC_WORLD.read_bytes()).hexdigest()[:12]
    quirks = sorted(spec.settings.get("quirks", []))
    name = f"public-{digest}-seed{spec.seed}-" + ("+".join(quirks) or "clean")
    name += "-noschemes" if spec.placebo else ""
    directory = cache / name
    if (directory / "world.json").exists():
        return directory
    command = [sys.executable, str(PUBLIC_WORLD), str(directory), "--seed", str(spec.seed)]
    if quirks:
        command += ["--quirks", ",".join(quirks)]
    if spec.placebo:
        command.append("--no-schemes")
    # world.json is written last: its presence marks a complete world.
    subprocess.run(command, check=True, capture_output=True, text=True)
    return directory


# -- rankings and metrics ---------------------------------------------------------------


def align_labels(
    labels: pd.DataFrame, leads: pd.DataFrame, flows: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """Labels matched to the series the package scores, and how many have no row.

    The package merges the HS2022 codes of a split into one series (its family's
    primary code, :func:`anomaly.reference.split_families`): a labelled series of such a
    code that the leads lack is matched to its family's series when the leads have
    that. Labelled series without a single row in the flows (a planted leg that never
    traded) cannot be found by any method and are left out.
    """
    families = split_families()
    scored = pd.MultiIndex.from_frame(leads[KEYS])
    labels = labels.copy()
    merged = labels["hs"].map(families).fillna(labels["hs"])
    moved = labels.assign(hs=merged)
    use = ~pd.MultiIndex.from_frame(labels[KEYS]).isin(scored) & pd.MultiIndex.from_frame(
        moved[KEYS]
    ).isin(scored)
    labels.loc[use, "hs"] = merged[use]
    present = flows[KEYS].drop_duplicates()
    present_keys = pd.MultiIndex.from_frame(present.assign(hs=present["hs"].astype(str)))
    with_rows = pd.MultiIndex.from_frame(labels[KEYS]).isin(present_keys) | use
    counted = labels[KEYS].drop_duplicates()
    missing = len(counted) - len(labels.loc[with_rows, KEYS].drop_duplicates())
    return labels[with_rows].reset_index(drop=True), int(missing)


def ranked_positions(ranked: pd.DataFrame, labels: pd.DataFrame) -> pd.Series:
    """Position of each series of ``ranked`` (every scored series, best first), indexed
    by its keys; the labelled series it lacks are appended after its last row, so that
    a series the model never scored counts as missed."""
    order = ranked[KEYS].reset_index(drop=True)
    missing = labels[KEYS].drop_duplicates().merge(order, on=KEYS, how="left", indicator=True)
    missing = missing.loc[missing["_merge"] == "left_only", KEYS]
    order = pd.concat([order, missing], ignore_index=True)
    return pd.Series(np.arange(len(order)), index=pd.MultiIndex.from_frame(order))


def in_top(position: pd.Series) -> pd.Series:
    """Whether each series of :func:`ranked_positions` ranks within the top
    ``TOP_FRACTION`` of them."""
    return position < math.ceil(TOP_FRACTION * len(position))


def ranking_metrics(ranked: pd.DataFrame, labels: pd.DataFrame) -> dict[str, float]:
    """AUC-PR, precision@50 and top-2% shares (overall, per scheme) of a ranking.

    ``ranked`` lists every scored series best first (:func:`ranked_positions`).
    """
    position = ranked_positions(ranked, labels)
    planted = labels[KEYS].drop_duplicates()
    positive = np.zeros(len(position), dtype=bool)
    positive[position.loc[pd.MultiIndex.from_frame(planted)].to_numpy()] = True
    if not positive.any():
        return {}
    report = detection_report(
        -np.arange(len(position), dtype=np.float64), positive, k=(TOP_K,), fraction=TOP_FRACTION
    )
    found = in_top(position)
    metrics = {
        "AUC-PR": report["average_precision"],
        f"precision@{TOP_K}": report[f"precision@{TOP_K}"],
        "top 2%": report[f"recall@top{100 * TOP_FRACTION:g}%"],
        "not scored": len(position) - len(ranked),
    }
    for name, group in scheme_groups(labels).items():
        keys = pd.MultiIndex.from_frame(group[KEYS].drop_duplicates())
        metrics[name] = float(found.loc[keys].mean())
    return metrics


def scheme_groups(labels: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Labelled series per scheme name, plus ``onward legs``: every export to RUS/BLR."""
    groups = {name: group for name, group in labels.groupby("scheme")}
    onward = labels[(labels["flow"] == "export") & labels["partner"].isin(SANCTIONED)]
    if len(onward):
        groups["onward legs"] = onward
    return groups


def has_signal(leads: pd.DataFrame, *names: str) -> pd.Series:
    """Whether each lead's ``;``-separated signals include any of ``names``."""
    signals = leads["signals"].fillna("").astype(str).str.split(";")
    return signals.map(lambda found: any(name in found for name in names))


def only_signals(leads: pd.DataFrame, *names: str) -> pd.Series:
    """Whether each lead has signals and all of them are among ``names``."""
    signals = leads["signals"].fillna("").astype(str).str.split(";")
    return signals.map(lambda found: bool([s for s in found if s]) and set(found) <= set(names))


def falls_read_as_surges(top: pd.DataFrame) -> tuple[int, int]:
    """Top leads that are exports to RUS/BLR below their expected value; of them, with
    the ``surge`` signal."""
    fell = (
        top["flow"].isin(["export", "re-export"])
        & top["partner"].isin(SANCTIONED)
        & (top["actual"] < top["expected"])
    )
    return int(fell.sum()), int((fell & has_signal(top, "surge")).sum())


def sanctioned_mirror_gaps(top: pd.DataFrame, labels: pd.DataFrame) -> int:
    """Unplanted top leads into RUS/BLR with the ``mirror_gap`` signal, on any world.

    The pattern of the ``partial-stop`` artifact, counted on every world so that quirk
    worlds can be read beside clean ones (Russia and Belarus publish nothing, or one
    month, of the scoring window in both families).
    """
    planted = pd.MultiIndex.from_frame(labels[KEYS])
    unplanted = ~pd.MultiIndex.from_frame(top[KEYS]).isin(planted)
    hit = top["partner"].isin(SANCTIONED).to_numpy() & has_signal(top, "mirror_gap").to_numpy()
    return int((hit & unplanted).sum())


def quirk_artifacts(
    top: pd.DataFrame,
    spec: WorldSpec,
    world: World,
    growth_covered: pd.Series,
    train_start: pd.Period,
) -> dict[str, int]:
    """Top leads that are not planted evasion and that a quirk of the world explains.

    - ``partial-stop``: the partner is a reporter whose last month is partial, and the
      lead carries the ``mirror_gap`` signal;
    - ``lag``: the partner has not yet published the last months, and ``mirror_gap``;
    - ``revision-gap``: the code has no row anywhere in the file before 2022 (its HS2017
      predecessor is absent): whatever the signal (``new_flow``, ``surge`` or
      ``mirror_gap`` against a generic prior), an unplanted lead there ranks on a
      history the file does not hold;
    - ``late-start``: the training window starts before the data, the lead's only
      signals are ``surge``/``new_flow``, and against the training months the data
      cover the series grew less than 1.5×.
    """
    quirks = spec.quirks
    planted = world.labels[KEYS].drop_duplicates().assign(_hit=True)
    lead = top.merge(planted, on=KEYS, how="left")
    unplanted = lead["_hit"].isna().to_numpy()
    counts = {}
    if "partial-stop" in quirks:
        hit = lead["partner"].isin(world.stopping) & has_signal(lead, "mirror_gap")
        counts["partial-stop"] = int((hit & unplanted).sum())
    if "lag" in quirks:
        hit = lead["partner"].isin(world.lagged) & has_signal(lead, "mirror_gap")
        counts["lag"] = int((hit & unplanted).sum())
    if "revision-gap" in quirks:
        flows = world.flows
        before = set(flows.loc[flows["period"] < pd.Period("2022-01", "M"), "hs"].unique())
        no_history = set(flows["hs"].unique()) - before
        hit = lead["hs"].isin(no_history)
        counts["revision-gap"] = int((hit & unplanted).sum())
    if "late-start" in quirks:
        data_start = world.flows["period"].min()
        hit = only_signals(lead, "surge", "new_flow") & (train_start < data_start)
        growth = growth_covered.reindex(pd.MultiIndex.from_frame(lead[KEYS])).to_numpy()
        hit &= ~(growth >= LATE_START_GROWTH)
        counts["late-start"] = int((hit & unplanted).sum())
    return counts


# -- baselines (from experiments/detection_quality.py) --------------------------------


def window_matrices(
    flows: pd.DataFrame,
    leads: pd.DataFrame,
    train: tuple[pd.Period, pd.Period],
    score: tuple[pd.Period, pd.Period],
    hs_level: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training, scoring-window and covered-training matrices aligned with the leads.

    Absent months are zeros. The third matrix is the training window from the first
    month of the data on: what the data cover, when a training window starts before
    them.
    """
    panel = build_panel(flows, hs_level=hs_level)
    index = pd.MultiIndex.from_frame(panel.keys)
    rows = index.get_indexer(pd.MultiIndex.from_frame(leads[KEYS]))
    covered = panel.window(max(train[0], panel.periods[0]), train[1]).values
    matrices = []
    for values in (panel.window(*train).values, panel.window(*score).values, covered):
        matrix = np.nan_to_num(values.astype(np.float64))[np.where(rows >= 0, rows, 0)]
        matrix[rows < 0] = 0.0
        matrices.append(matrix)
    return matrices[0], matrices[1], matrices[2]


# -- one world ---------------------------------------------------------------------------


@dataclass
class WorldResult:
    """What one world gave.

    Attributes
    ----------
    spec : WorldSpec
    methods : dict of str to dict
        Metrics of each method's ranking (empty on placebo worlds), or the reason a
        method did not run (key ``"skipped"``) or the last line of its failure (key
        ``"failed"``).
    facts : dict
        Series, planted series, alerts, placebo alert rate, falls read as surges,
        quirk artifacts, training window used, seconds.
    error : str or None
        The last lines of the traceback if the world failed.
    twin : WorldResult or None
        Its quirk-free twin's (:func:`quirk_free_twin`), where it has one.
    """

    spec: WorldSpec
    methods: dict[str, dict] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    error: str | None = None
    twin: WorldResult | None = None


def evaluate_world(spec: WorldSpec, cache: Path, quick: bool, run_autoets: bool) -> WorldResult:
    """Build, fit, score and measure one world; a failure is recorded, not raised."""
    result = WorldResult(spec)
    stage = "building the world"
    try:
        world = build_world(spec, cache, quick)
        result.facts["build s"] = world.seconds
        stage = "fitting the model and scoring"
        started = time.perf_counter()
        model, leads = fit_and_score(spec, world, world.controlled or "chp")
        result.facts["model s"] = time.perf_counter() - started
        stage = "measuring"
        measure(result, spec, world, model, leads, run_autoets)
    except Exception:  # a failing world is a finding, reported in full
        lines = traceback.format_exc().strip().splitlines()
        result.error = f"while {stage}:\n" + "\n".join(lines[-6:])
        return result
    if world.controlled is not None and not spec.placebo:
        try:  # a failure here is this row's, not the world's
            _, leads = fit_and_score(spec, world, "chp")
            result.methods[DEFAULT_LIST] = ranking_metrics(leads.sort_values("rank"), world.labels)
        except Exception as error:
            result.methods[DEFAULT_LIST] = {"failed": f"{type(error).__name__}: {error}"}
    return result


def fit_and_score(
    spec: WorldSpec, world: World, controlled: str | tuple[str, ...]
) -> tuple[TradeAnomalyModel, pd.DataFrame]:
    """``TradeAnomalyModel`` fitted on the world's training window with ``controlled``
    goods, and its leads of the scoring window."""
    model = TradeAnomalyModel(random_state=0, controlled=controlled)
    train_start, train_end = spec.train
    if train_start is None:
        model.fit(world.flows, train_end=train_end)
    else:
        model.fit(world.flows, train_start, train_end)
    return model, model.score(world.flows, *spec.score).leads


def measure(
    result: WorldResult,
    spec: WorldSpec,
    world: World,
    model: TradeAnomalyModel,
    leads: pd.DataFrame,
    run_autoets: bool,
) -> None:
    """Fill ``result`` with the metrics of the model and of the baselines."""
    train = tuple(pd.Period(p, freq="M") for p in model.train_window_)
    score = tuple(pd.Period(p, freq="M") for p in spec.score)
    in_scope = leads["in_scope"].astype(bool)
    top = leads.head(TOP_K)
    world.labels, without_rows = align_labels(world.labels, leads, world.flows)
    facts = result.facts
    facts.update(
        {
            "train used": f"{train[0]}..{train[1]}",
            "series": len(leads),
            "in scope": int(in_scope.sum()),
            "planted": len(world.labels[KEYS].drop_duplicates()),
            "labelled without rows": without_rows,
            "alerts": int(leads["alert"].sum()),
        }
    )
    if spec.placebo:
        facts["placebo in-scope alert rate"] = float(leads.loc[in_scope, "alert"].mean())
    fell, fell_surge = falls_read_as_surges(top)
    facts["falls in top 50"], facts["of which surge"] = fell, fell_surge
    facts["sanctioned mirror gaps in top 50"] = sanctioned_mirror_gaps(top, world.labels)

    started = time.perf_counter()
    train_m, window_m, covered_m = window_matrices(world.flows, leads, train, score, model.hs_level)
    growth = prewar_mean_growth(train_m, window_m)
    covered = prewar_mean_growth(covered_m, window_m)
    facts.update(
        quirk_artifacts(
            top, spec, world, pd.Series(covered, pd.MultiIndex.from_frame(leads[KEYS])), train[0]
        )
    )
    rankings: dict[str, Callable[[], np.ndarray] | None] = {
        "growth ratio": lambda: growth,
        "isolation forest on growth": lambda: isolation_forest_on_growth(growth),
        "AutoETS interval rule": None,
    }
    if run_autoets:
        rows = np.flatnonzero(in_scope.to_numpy())
        rankings["AutoETS interval rule"] = lambda: interval_rule(train_m, window_m, rows)
    if spec.placebo:
        facts["baselines s"] = time.perf_counter() - started
        return
    ranked = leads.sort_values("rank")
    result.methods["anomaly"] = ranking_metrics(ranked, world.labels)
    if world.labels_as_written is not None:
        written, _ = align_labels(world.labels_as_written, leads, world.flows)
        result.methods[AS_WRITTEN] = ranking_metrics(ranked, written)
    for name, compute in rankings.items():
        if compute is None:
            result.methods[name] = {"skipped": True}
            continue
        result.methods[name] = ranking_metrics(ranked_by(leads, compute()), world.labels)
    facts["baselines s"] = time.perf_counter() - started


# -- the report ----------------------------------------------------------------------------


def fmt(value: object) -> str:
    """A table cell: floats to 3 decimals, missing as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def world_section(result: WorldResult, quick: bool) -> str:
    """The markdown section of one world."""
    spec = result.spec
    train = f"{spec.train[0] or 'package default'}..{spec.train[1]}"
    lines = [
        f"### {spec.name} ({spec.family}: {spec.note})\n",
        f"{spec.describe(quick)}; train {train}, score {spec.score[0]}..{spec.score[1]}.\n",
    ]
    if result.error is not None:
        lines.append("**Failed** " + "\n```\n" + result.error + "\n```\n")
        return "\n".join(lines)
    facts = result.facts
    lines.append(
        f"{facts['series']:,} series scored ({facts['in scope']:,} in scope), "
        f"{facts['planted']} planted evasion series ({facts['labelled without rows']} more "
        f"labelled without any row, left out), {facts['alerts']} alerts; training "
        f"window used {facts['train used']}; seconds: build {facts['build s']:.0f}, "
        f"fit+score {facts['model s']:.0f}, baselines {facts['baselines s']:.0f}.\n"
    )
    if result.methods:
        rows = []
        for name in METHODS:
            if name not in result.methods:
                continue
            metrics = result.methods[name]
            if metrics.get("skipped"):
                rows.append({"method": name, "AUC-PR": "not run (time budget)"})
                continue
            if metrics.get("failed"):
                rows.append({"method": name, "AUC-PR": f"failed: {metrics['failed']}"})
                continue
            row = {"method": name}
            row.update({key: metrics.get(key) for key in ("AUC-PR", "precision@50", "top 2%")})
            row.update({f"top 2% {s}": metrics.get(s) for s in SCHEME_COLUMNS})
            row["not scored"] = metrics.get("not scored")
            rows.append({key: fmt(value) for key, value in row.items()})
        table = pd.DataFrame(rows)
        table = table.loc[:, (table.fillna("–") != "–").any()]
        lines.append(markdown(table.fillna("–")) + "\n")
    extra = []
    if "placebo in-scope alert rate" in facts:
        rate = facts["placebo in-scope alert rate"]
        extra.append(
            f"placebo in-scope alert rate **{rate:.2%}** "
            f"({rate / DOCUMENTED_FALSE_ALARM_RATE:.1f}× the documented 1%)"
        )
    extra.append(
        f"top-50 exports to RUS/BLR below expected (falls read as leads): "
        f"**{facts['falls in top 50']}** ({facts['of which surge']} with the surge signal)"
    )
    extra.append(
        "unplanted mirror-gap leads into RUS/BLR in the top 50: "
        f"{facts['sanctioned mirror gaps in top 50']}"
    )
    artifacts = [f"{q}: **{facts[q]}**" for q in QUIRK_NAMES if q in facts]
    if artifacts:
        extra.append("quirk artifacts in the top 50: " + ", ".join(artifacts))
    lines.append("; ".join(extra) + ".\n")
    return "\n".join(lines)


def summary_rows(results: list[WorldResult]) -> list[tuple[str, list[float]]]:
    """Every metric with its values over the worlds where it is defined."""
    ok = [r for r in results if r.error is None]
    rows: list[tuple[str, list[float]]] = []

    def add(label: str, values: Iterable[object]) -> None:
        kept = [float(v) for v in values if v is not None and not _is_nan(v)]
        rows.append((label, kept))

    for method in METHODS:
        for metric in ("AUC-PR", "precision@50", "top 2%"):
            add(f"{method}: {metric}", (r.methods.get(method, {}).get(metric) for r in ok))
    for scheme in SCHEME_COLUMNS:
        add(f"anomaly: top 2% {scheme}", (r.methods.get("anomaly", {}).get(scheme) for r in ok))
    add("placebo in-scope alert rate", (r.facts.get("placebo in-scope alert rate") for r in ok))
    add("falls read as leads in top 50 (all worlds)", (r.facts.get("falls in top 50") for r in ok))
    add(
        "falls read as leads in top 50 (all-sanctioned worlds)",
        (r.facts.get("falls in top 50") for r in ok if "all-sanctioned" in r.spec.quirks),
    )
    for quirk in QUIRK_NAMES:
        add(f"{quirk} artifacts in top 50", (r.facts.get(quirk) for r in ok))
    add(
        "unplanted mirror-gap leads into RUS/BLR in top 50 (all worlds)",
        (r.facts.get("sanctioned mirror gaps in top 50") for r in ok),
    )
    add("seconds per world (build+fit+score+baselines)", (_seconds(r) for r in ok))
    return rows


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _seconds(result: WorldResult) -> float:
    return sum(result.facts.get(k, 0.0) for k in ("build s", "model s", "baselines s"))


def summary_table(results: list[WorldResult]) -> pd.DataFrame:
    """Median and min–max of every metric, per family and over all worlds."""
    families = {
        "simulator": [r for r in results if r.spec.family == "simulator"],
        "public": [r for r in results if r.spec.family == "public"],
        "all": results,
    }
    columns: dict[str, list[str]] = {"metric": []}
    per_family = {name: summary_rows(group) for name, group in families.items()}
    for index, (label, _) in enumerate(per_family["all"]):
        columns["metric"].append(label)
        # Counts read better without decimals.
        cell = (lambda v: f"{v:g}") if "top 50" in label or "seconds" in label else fmt
        for name in families:
            values = per_family[name][index][1]
            if "seconds" in label:
                values = [round(v) for v in values]
            columns.setdefault(f"{name}: median", []).append(
                cell(float(np.median(values))) if values else "–"
            )
            columns.setdefault(f"{name}: min–max (n)", []).append(
                f"{cell(min(values))}–{cell(max(values))} ({len(values)})" if values else "–"
            )
    return pd.DataFrame(columns)


def quirk_cost_table(results: list[WorldResult]) -> pd.DataFrame:
    """Per world with a twin: its AUC-PR and precision@50, its twin's, the differences."""
    rows = []
    for r in results:
        twin = r.twin
        if twin is None or twin.error is not None or r.error is not None:
            continue
        mine, theirs = r.methods.get("anomaly", {}), twin.methods.get("anomaly", {})
        row = {"world": r.spec.name, "quirks": ", ".join(sorted(r.spec.quirks & set(QUIRK_NAMES)))}
        for metric in ("AUC-PR", "precision@50"):
            a, b = mine.get(metric, np.nan), theirs.get(metric, np.nan)
            row |= {metric: fmt(a), f"twin {metric}": fmt(b), f"{metric} change": f"{a - b:+.3f}"}
        gaps = [mine.get(m, np.nan) - theirs.get(m, np.nan) for m in ("AUC-PR", "precision@50")]
        row["within 0.05"] = "yes" if all(g >= -0.05 for g in gaps) else "**no**"
        rows.append(row)
    return pd.DataFrame(rows)


def git_state() -> str:
    """The commit and whether the working tree has changes (read-only git calls)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' with uncommitted changes' if dirty else ''}"


def package_fingerprint() -> str:
    """sha256 (first 12 hex digits) of the package's Python sources: two result files
    with the same fingerprint were made by the same code, committed or not."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "anomaly").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def report(
    split: str,
    command: str,
    results: list[WorldResult],
    seconds: float,
    quick: bool,
    sources: str,
) -> str:
    """The whole results file; ``sources`` is the package fingerprint at the start."""
    digest = hashlib.sha256(WORLDS_FILE.read_bytes()).hexdigest()[:16]
    now = package_fingerprint()
    if now == sources:
        state = f"sources sha256 {now}…"
    else:
        state = (
            f"**the sources changed during the run** (sha256 {sources}… at the start, "
            f"{now}… at the end): figures may mix versions"
        )
    failed = [r for r in results if r.error is not None]
    autoets = "statsforecast installed" if statsforecast_installed() else "not installed"
    sections = [
        f"# Generalisation: the `{split}` split\n",
        f"Command: `{command}` — {len(results)} worlds of `experiments/worlds.json` "
        f"(sha256 {digest}…), package at {git_state()} ({state}); {seconds / 60:.1f} "
        f"minutes on this machine (2 cores, shared with other work).\n",
        ("**Smoke run (--quick): not a reported result.**\n" if quick else ""),
        "Every method ranks the same series, in-scope series first. *top 2%*: share of the "
        "planted evasion series ranked in the top 2% of all series (per scheme: of that "
        "scheme's series; *onward legs*: labelled exports to RUS/BLR of any scheme); "
        "labelled series the model did not score count as missed. *Falls read as leads*: "
        "top-50 exports to RUS/BLR whose actual value is below the expected one. Quirk "
        "artifacts are defined in `quirk_artifacts` of the script. AutoETS interval rule: "
        f"{autoets}; by default run only on the worlds marked `autoets` in worlds.json "
        "(about 20 s per 1,000 in-scope series: 2–5 minutes per public world), elsewhere "
        "*not run (time budget)*; `--autoets all` runs it everywhere. On public worlds "
        "the model is told the world's own controlled goods (its generator's `CHP` list, "
        "two codes of which are not on the official list); the row *anomaly, default "
        "controlled list* is the same model with the package's default list.\n",
        "## Summary: median and min–max (number of worlds) per family\n",
        markdown(summary_table(results)) + "\n",
    ]
    twins = quirk_cost_table(results)
    if len(twins):
        sections += [
            "## What the quirks cost: each quirk world against its quirk-free twin\n",
            "The twin is the same world without its quirks of files (`quirk_free_twin`): "
            "exactly the same world in the simulator family; in the public family the "
            "same flows and schemes with other declaration noise (no twin for its "
            "`late-start`, which draws another world). Issue 11's target: within 0.05 "
            "of the twin in AUC-PR and precision@50.\n",
            markdown(twins) + "\n",
        ]
    if failed:
        sections.append("## Failed worlds\n")
        for r in failed:
            sections.append(f"- **{r.spec.name}**:\n```\n{r.error}\n```\n")
    sections.append("## Worlds\n")
    sections += [world_section(r, quick) for r in results]
    return "\n".join(s for s in sections if s)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("development", "held_out"), default="development")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small worlds, two public ones"
    )
    parser.add_argument("--world", action="append", help="run only this world (repeatable)")
    parser.add_argument(
        "--autoets",
        choices=("marked", "all", "none"),
        default="marked",
        help="where to run the slow AutoETS baseline (default: worlds marked in worlds.json)",
    )
    parser.add_argument("--cache", default=str(CACHE), help="directory of generated worlds")
    parser.add_argument("--out", help="results file (default: by split)")
    args = parser.parse_args(argv)

    specs = load_worlds(args.split)
    if args.world:
        unknown = sorted(set(args.world) - {s.name for s in specs})
        if unknown:
            parser.error(f"no world {unknown} in the {args.split} split")
        specs = [s for s in specs if s.name in args.world]
    if args.quick:
        public = [s for s in specs if s.family == "public"][:QUICK_PUBLIC_WORLDS]
        specs = [s for s in specs if s.family == "simulator" or s in public]
    suffix = "_quick" if args.quick else "_partial" if args.world else ""
    if args.autoets != "marked" and not args.quick:
        suffix += f"_autoets_{args.autoets}"
    out = Path(args.out) if args.out else RESULTS / f"generalisation_{args.split}{suffix}.md"
    run_autoets = statsforecast_installed() and not args.quick and args.autoets != "none"

    command = "python experiments/generalisation.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    started = time.perf_counter()
    sources = package_fingerprint()
    results = []
    for spec in specs:
        print(f"{spec.name} ...", end=" ", flush=True)
        autoets = run_autoets and (spec.autoets or args.autoets == "all")
        result = evaluate_world(spec, Path(args.cache), args.quick, autoets)
        twin = quirk_free_twin(spec)
        if twin is not None and result.error is None:
            result.twin = evaluate_world(twin, Path(args.cache), args.quick, run_autoets=False)
        results.append(result)
        anomaly = result.methods.get("anomaly", {})
        print(
            "FAILED" if result.error else f"AUC-PR {fmt(anomaly.get('AUC-PR'))}",
            f"({_seconds(result):.0f} s)",
            flush=True,
        )
    seconds = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(args.split, command.strip(), results, seconds, args.quick, sources))
    print(f"wrote {out} ({seconds / 60:.1f} minutes)")


if __name__ == "__main__":
    main()
