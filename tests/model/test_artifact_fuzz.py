"""Hash-consistent malformed artifacts: every one is refused with exit 4.

A small real model is saved once; each example mutates its manifest, config, arrays or
tables (or the manifest's raw text), writes the result as a new artifact whose digests,
sizes and array/table descriptions are recomputed, so every integrity check passes and
only the content schema stands guard. Each forgery must make ``anomaly.load`` raise an
:class:`~anomaly.errors.ArtifactError` that names a file, and ``anomaly inspect`` exit 4.

The normal suite runs :data:`EXAMPLES` (200) examples, derandomised. The long campaign::

    ANOMALY_FUZZ_EXAMPLES=1200 python -m pytest -q -s -p no:cacheprovider \\
        tests/model/test_artifact_fuzz.py

runs 1,200 random examples and prints how many distinct artifacts it refused.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import anomaly
from anomaly import TradeAnomalyModel
from anomaly.artifacts import read_artifact
from anomaly.artifacts.integrity import file_record
from anomaly.artifacts.npz import describe_array
from anomaly.artifacts.parquet import describe_table
from anomaly.cli.main import main
from anomaly.detect import DETECTORS
from anomaly.errors import ArtifactError, ArtifactSchemaError
from anomaly.forecast import FORECASTERS
from anomaly.reference import CHP_VERSIONS, countries
from anomaly.schema import CURRENCIES
from anomaly.simulate import simulate_world

#: Examples per run; set ANOMALY_FUZZ_EXAMPLES for the long campaign.
EXAMPLES = int(os.environ.get("ANOMALY_FUZZ_EXAMPLES", "200"))
TRAIN = ("2018-01", "2021-12")
TREES = 5
KNOWN_COUNTRIES = frozenset(countries()["alpha3"])
#: sha256 of every refused manifest, to count distinct forgeries.
REFUSED: set[str] = set()


class Forgery:
    """An artifact in memory, to be changed and written hash-consistently.

    ``raw_members`` are npz members written verbatim (name -> manifest entry, bytes);
    ``text_edits`` are applied to the manifest's text after it is encoded.
    """

    def __init__(
        self,
        manifest: dict[str, Any],
        arrays: dict[str, np.ndarray],
        tables: dict[str, pd.DataFrame],
    ) -> None:
        self.manifest, self.arrays, self.tables = manifest, arrays, tables
        self.raw_members: dict[str, tuple[dict, bytes]] = {}
        self.text_edits: list[Callable[[str], str]] = []

    def __repr__(self) -> str:
        return f"Forgery({len(self.arrays)} arrays, tables {sorted(self.tables)})"

    def copy(self) -> Forgery:
        return Forgery(
            copy.deepcopy(self.manifest),
            {k: v.copy() for k, v in self.arrays.items()},
            {k: v.copy() for k, v in self.tables.items()},
        )

    def write(self, directory: Path) -> Path:
        """Write the artifact with recomputed descriptions, sizes and sha256 digests."""
        directory.mkdir()
        manifest = copy.deepcopy(self.manifest)
        manifest["arrays"] = {name: describe_array(a) for name, a in self.arrays.items()}
        with zipfile.ZipFile(directory / "arrays.npz", "w", zipfile.ZIP_STORED) as npz:
            for name in sorted(self.arrays):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, self.arrays[name], allow_pickle=False)
                npz.writestr(name + ".npy", buffer.getvalue())
            for name, (entry, data) in sorted(self.raw_members.items()):
                manifest["arrays"][name] = entry
                npz.writestr(name + ".npy", data)
        manifest["tables"] = {}
        for name, frame in self.tables.items():
            try:
                table = pa.Table.from_pandas(frame, preserve_index=False)
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                # Mixed values (an int among codes): stored as their text.
                mixed = {c: str for c in frame.columns if frame[c].dtype == object}
                table = pa.Table.from_pandas(frame.astype(mixed), preserve_index=False)
            pq.write_table(table, directory / f"{name}.parquet")
            manifest["tables"][name] = describe_table(name, table)
        manifest["files"] = {path.name: file_record(path) for path in sorted(directory.iterdir())}
        text = json.dumps(manifest, indent=2, sort_keys=True)
        for edit in self.text_edits:
            text = edit(text)
        (directory / "manifest.json").write_text(text, encoding="utf-8")
        return directory


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Forgery:
    """A small real model, as stored (format 2)."""
    world = simulate_world(120, seed=3)
    model = TradeAnomalyModel(n_estimators=TREES).fit(world.flows, *TRAIN)
    path = model.save(tmp_path_factory.mktemp("fuzz") / "model")
    artifact = read_artifact(path)
    return Forgery(copy.deepcopy(artifact.manifest), dict(artifact.arrays), dict(artifact.tables))


def inspect_exit(path: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["inspect", str(path)])
    return code, err.getvalue()


def assert_refused(forgery: Forgery, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = forgery.write(Path(tmp) / "model")
        with pytest.raises(ArtifactError) as caught:
            try:
                anomaly.load(path)
            except ArtifactError:
                raise
            except Exception as error:
                pytest.fail(f"{label}: {type(error).__name__}: {error}")
            else:
                pytest.fail(f"{label}: accepted")
        message = str(caught.value)
        assert any(name in message for name in ("manifest.json", "arrays.npz", ".parquet")), (
            label,
            message,
        )
        if isinstance(caught.value, ArtifactSchemaError):
            assert caught.value.file and caught.value.field, label
        assert len(message) < 2000, label
        code, err = inspect_exit(path)
        assert code == 4, (label, code, err)
        assert err.count("\n") == 1, (label, err)
        REFUSED.add(hashlib.sha256((path / "manifest.json").read_bytes()).hexdigest())


# -- values that are never valid ------------------------------------------------------

WRONG_TYPES = st.one_of(
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NOT_INT = st.one_of(
    WRONG_TYPES, st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none()
)
NOT_NUMBER = st.one_of(WRONG_TYPES, st.booleans(), st.none())
BAD_COUNTRY = st.one_of(
    st.text(max_size=5).filter(lambda s: s not in KNOWN_COUNTRIES),
    st.integers(),
    st.none(),
)
NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])


def outside(lo: float, hi: float) -> st.SearchStrategy:
    """Numbers outside [lo, hi], non-finite numbers, and non-numbers."""
    return st.one_of(
        st.floats(max_value=lo, exclude_max=True),
        st.floats(min_value=hi, exclude_min=True),
        st.integers(max_value=int(np.floor(lo)) - 1) if np.isfinite(lo) else st.nothing(),
        st.integers(min_value=int(np.ceil(hi)) + 1) if np.isfinite(hi) else st.nothing(),
        NON_FINITE,
        NOT_NUMBER,
    )


def int_outside(lo: int, hi: int) -> st.SearchStrategy:
    return st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1), NOT_INT)


#: Manifest fields and values that each one must refuse (the base model: 48 training
#: months, 233 series, 5 trees, detectors residual/mirror/isolation/rerouting).
BAD_VALUES: dict[tuple, st.SearchStrategy] = {
    ("config", "model", "hs_level"): st.one_of(
        st.integers().filter(lambda x: x not in (2, 4, 6, 8, 10)),
        st.sampled_from(["6", 6.0, True, None, [6]]),
    ),
    # Any length from 1 month up passes: the placebo window is at most a third of the
    # training window, whatever the model asks for.
    ("config", "model", "placebo_months"): int_outside(1, 1200),
    ("config", "model", "false_alarm_rate"): outside(0, 1).filter(lambda x: x not in (0.5,)),
    ("config", "model", "n_estimators"): int_outside(1, 100_000),
    ("config", "model", "random_state"): st.one_of(
        st.integers(max_value=-1), st.integers(min_value=2**32), WRONG_TYPES, st.floats()
    ),
    ("config", "model", "chp_version"): st.one_of(
        st.text(max_size=10).filter(lambda s: s not in CHP_VERSIONS), st.integers(), st.none()
    ),
    ("config", "detection", "sanctioned"): st.one_of(
        st.lists(BAD_COUNTRY, min_size=1, max_size=3), st.text(max_size=3), st.integers()
    ),
    ("config", "detection", "transit"): st.lists(BAD_COUNTRY, min_size=1, max_size=3),
    ("config", "detection", "band_coverage"): outside(0, 1),
    ("config", "detection", "signal_z"): outside(0, 40).filter(lambda x: x != 0),
    ("config", "detection", "min_placebo_values"): int_outside(1, 10**9),
    ("config", "detection", "min_scope_series"): int_outside(0, 10**9),
    ("config", "forecaster", "class"): st.one_of(
        st.text(max_size=20).filter(lambda s: s not in FORECASTERS), st.integers(), st.none()
    ),
    ("config", "forecaster", "params", "damping"): outside(0, 1),
    ("config", "forecaster", "params", "chunk_size"): int_outside(1, 10**9),
    ("config", "forecaster", "params", "pool_by"): st.one_of(
        st.lists(
            st.text(max_size=6).filter(lambda s: s not in ("reporter", "partner", "flow", "hs")),
            min_size=1,
            max_size=2,
        ),
        st.integers(),
    ),
    ("config", "forecaster", "params", "calibrate"): st.one_of(
        st.integers(), st.text(max_size=3), st.none()
    ),
    ("config", "forecaster", "params", "half_life"): st.one_of(
        st.floats(max_value=0),
        st.text(max_size=5).filter(lambda s: s not in ("auto", "inf")),
        st.none(),
    ),
    ("config", "detectors", 2, "params", "n_estimators"): st.one_of(
        st.integers().filter(lambda x: x != TREES), NOT_INT
    ),
    ("config", "detectors", 2, "params", "max_samples"): st.one_of(
        st.text(max_size=5).filter(lambda s: s != "auto"),
        st.integers(max_value=0),
        st.floats(min_value=1, exclude_min=True).filter(lambda x: not float(x).is_integer()),
        st.floats(max_value=0),
    ),
    ("config", "detectors", 0, "name"): st.one_of(
        st.text(max_size=12).filter(lambda s: s not in DETECTORS), st.integers(), st.none()
    ),
    ("config", "detectors", 1, "name"): st.sampled_from(["residual", "isolation", "rerouting"]),
    ("metadata", "currency"): st.one_of(
        st.text(max_size=4).filter(lambda s: s not in CURRENCIES), st.integers(), st.booleans()
    ),
    ("metadata", "n_series"): st.one_of(st.integers().filter(lambda x: x != 233), NOT_INT),
    ("metadata", "training_window", "start"): st.one_of(
        st.text(max_size=8).filter(lambda s: s != TRAIN[0]),
        st.sampled_from(["2017-12", "2018-02", "2018-1", "2018-13", "2022-01", "1899-01"]),
        st.integers(),
    ),
    ("metadata", "training_window", "end"): st.one_of(
        st.text(max_size=8).filter(lambda s: s != TRAIN[1]),
        st.sampled_from(["2021-11", "2022-01", "2021-00", "2017-12", "21-12"]),
        st.none(),
    ),
    ("metadata", "data_fingerprint"): st.one_of(
        st.integers(), st.none(), st.text(min_size=201, max_size=210)
    ),
    ("metadata", "training_window"): st.one_of(
        st.text(max_size=5), st.lists(st.text(max_size=7), max_size=2)
    ),
    ("config", "detectors"): st.one_of(
        st.just([]),
        st.text(max_size=5),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    ("config", "forecaster"): st.one_of(st.text(max_size=5), st.integers(), st.none()),
}
REQUIRED = [
    ("config", "model"),
    ("config", "detection"),
    ("config", "forecaster"),
    ("config", "detectors"),
    ("config", "forecaster", "class"),
    ("config", "forecaster", "params"),
    ("config", "detectors", 0, "name"),
    ("config", "detectors", 2, "params"),
    *[
        ("config", "model", name)
        for name in (
            "hs_level",
            "chp_version",
            "placebo_months",
            "false_alarm_rate",
            "n_estimators",
            "random_state",
        )
    ],
    ("metadata", "training_window"),
    ("metadata", "data_fingerprint"),
    ("metadata", "n_series"),
    ("metadata", "training_window", "start"),
]
EXTENSIBLE = [
    ("config",),
    ("config", "model"),
    ("config", "detection"),
    ("config", "forecaster"),
    ("config", "forecaster", "params"),
    ("config", "detectors", 0),
    ("config", "detectors", 2, "params"),
    ("metadata", "training_window"),
]


def _at(document: Any, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


@st.composite
def bad_value(draw) -> tuple[str, Callable[[Forgery], None]]:
    path = draw(st.sampled_from(sorted(BAD_VALUES, key=str)))
    value = draw(BAD_VALUES[path])

    def apply(f: Forgery) -> None:
        _at(f.manifest, path[:-1])[path[-1]] = value

    return f"value {path}={value!r:.60}", apply


@st.composite
def missing_key(draw):
    path = draw(st.sampled_from(REQUIRED))

    def apply(f: Forgery) -> None:
        del _at(f.manifest, path[:-1])[path[-1]]

    return f"missing {path}", apply


@st.composite
def unknown_key(draw):
    path = draw(st.sampled_from(EXTENSIBLE))
    key = draw(st.text(min_size=1, max_size=12))
    value = draw(st.one_of(st.integers(), st.text(max_size=4), st.none(), st.booleans()))

    def apply(f: Forgery) -> None:
        # Every known field is present in the real model: a name it lacks is unknown.
        target, name = _at(f.manifest, path), key
        while name in target:
            name = "zz_" + name
        target[name] = value

    return f"unknown {path}.{key!r}", apply


@st.composite
def duplicate_key(draw):
    target = draw(
        st.sampled_from(
            [
                '"hs_level": 6',
                '"format_version": 2',
                '"n_series": 233',
                '"class": "PooledForecaster"',
                '"damping": 0.9',
            ]
        )
    )
    other = draw(
        st.one_of(st.just(target), st.integers().map(lambda i: target.split(":")[0] + f": {i}"))
    )

    def apply(f: Forgery) -> None:
        f.text_edits.append(lambda text: text.replace(target, f"{other}, {target}", 1))

    return f"duplicate {target} / {other}", apply


@st.composite
def deep_nesting(draw):
    depth = draw(st.one_of(st.integers(33, 200), st.integers(1000, 100_000)))
    bracket = draw(st.sampled_from(["[]", "{}"]))

    def apply(f: Forgery) -> None:
        f.manifest["metadata"]["extra"] = "@@DEEP@@"
        if bracket == "[]":
            nested = "[" * depth + "]" * depth
        else:
            nested = '{"a": ' * depth + "1" + "}" * depth
        f.text_edits.append(lambda text: text.replace('"@@DEEP@@"', nested))

    return f"nesting {depth} {bracket}", apply


@st.composite
def bad_literal(draw):
    literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000]))
    where = draw(
        st.sampled_from(['"damping": 0.9', '"signal_z": 2.326', '"false_alarm_rate": 0.01'])
    )

    def apply(f: Forgery) -> None:
        f.text_edits.append(
            lambda text: text.replace(where, where.split(":")[0] + ": " + literal, 1)
        )

    return f"literal {literal[:10]} at {where}", apply


# -- arrays -----------------------------------------------------------------------------

PER_SERIES = [
    "forecast.level",
    "forecast.variance",
    "forecast.p_nonzero",
    "forecast.trend",
    "forecast.n_nonzero",
    "forecast.season",
    "forecast.log_smearing",
    "forecast.n_effective",
    "forecast.occurrence_months",
]
OTHER_SIZED = [
    "detector.mirror.log_ratio",
    "detector.mirror.calibration.centres",
    "detector.isolation.forest.children_left",
    "detector.isolation.forest.threshold",
    "detector.isolation.forest.tree_offsets",
    "forecast.shock_months",
    "forecast.pit_tables",
    "forecast.error_shapes",
    "forecast.new_series",
    "detector.residual.calibration",
    "detector.baseline.quantiles",
    "detector.regularity.calibration",
]


@st.composite
def array_length(draw):
    name = draw(st.sampled_from(PER_SERIES + OTHER_SIZED))
    delta = draw(st.integers(-50, 50).filter(bool))

    def apply(f: Forgery) -> None:
        array = f.arrays[name]
        length = max(array.shape[0] + delta, 0) if array.ndim else 0
        if array.ndim and length == array.shape[0]:
            length += 1
        f.arrays[name] = np.resize(array, (length, *array.shape[1:])).astype(array.dtype)

    return f"length {name} {delta:+d}", apply


def _finite_index(array: np.ndarray, draw, mask: np.ndarray | None = None) -> int:
    flat = array.reshape(-1)
    choices = np.flatnonzero(mask.reshape(-1)) if mask is not None else np.arange(flat.size)
    return int(choices[draw(st.integers(0, len(choices) - 1))])


#: (array, values that must be refused at any position).
BAD_ENTRIES = {
    "ensemble.threshold": st.one_of(
        NON_FINITE, st.floats(max_value=-1e-9), st.floats(min_value=1000.5)
    ),
    "forecast.variance": st.one_of(
        NON_FINITE, st.floats(max_value=0), st.floats(min_value=1e4, exclude_min=True)
    ),
    "forecast.p_nonzero": st.one_of(
        NON_FINITE,
        st.floats(max_value=0, exclude_max=True),
        st.floats(min_value=1, exclude_min=True),
    ),
    "forecast.trend": st.one_of(
        NON_FINITE,
        st.floats(min_value=10, exclude_min=True),
        st.floats(max_value=-10, exclude_max=True),
    ),
    "forecast.season": st.one_of(NON_FINITE, st.floats(min_value=101, max_value=1e30)),
    "forecast.log_smearing": st.one_of(NON_FINITE, st.floats(min_value=100, exclude_min=True)),
    "forecast.n_effective": st.one_of(NON_FINITE, st.floats(max_value=0, exclude_max=True)),
    "forecast.n_nonzero": st.one_of(
        st.integers(max_value=-1), st.integers(min_value=49, max_value=2**62)
    ),
    "forecast.occurrence_months": st.one_of(
        st.integers(max_value=-1), st.integers(min_value=49, max_value=2**62)
    ),
    "forecast.damping": st.one_of(
        NON_FINITE, st.floats(min_value=1), st.floats(max_value=0, exclude_max=True)
    ),
    "forecast.half_life": st.one_of(st.just(float("nan")), st.floats(max_value=0)),
    "forecast.new_series": st.one_of(NON_FINITE),
    "forecast.pit_tables": st.one_of(
        NON_FINITE, st.floats(min_value=1.01), st.floats(max_value=-0.01)
    ),
    "forecast._train_months": st.integers().filter(lambda x: x != 48),
    "detector.residual.calibration": st.one_of(NON_FINITE),
    "detector.baseline.lengths": st.one_of(NON_FINITE, st.floats(max_value=0.5)),
    "detector.regularity.calibration": st.one_of(NON_FINITE),
    "detector.regularity.placebo_values": st.integers(max_value=-1),
    "detector.baseline.draws": st.one_of(NON_FINITE, st.floats(max_value=-1)),
    "detector.mirror.calibration.spreads": st.one_of(NON_FINITE, st.floats(max_value=0)),
    "detector.mirror.pooled": st.one_of(NON_FINITE, st.floats(min_value=101)),
    "detector.isolation.training_scores": st.one_of(
        NON_FINITE,
        st.floats(min_value=1, exclude_min=True),
        st.floats(max_value=0, exclude_max=True),
    ),
    "detector.isolation.forest.threshold": NON_FINITE,
    "detector.isolation.forest.n_node_samples": st.integers(max_value=0),
    "detector.isolation.forest.n_features_in": st.integers().filter(lambda x: x != 7),
    "detector.isolation.forest.offset": st.one_of(
        NON_FINITE, st.floats(min_value=1, exclude_min=True)
    ),
}


@st.composite
def bad_entry(draw):
    name = draw(st.sampled_from(sorted(BAD_ENTRIES)))
    value = draw(BAD_ENTRIES[name])
    position = draw(st.integers(0, 10**6))

    def apply(f: Forgery) -> None:
        array = f.arrays[name].copy()
        flat = array.reshape(-1)
        if np.issubdtype(array.dtype, np.integer):
            flat[position % flat.size] = int(np.clip(value, -(2**62), 2**62))
        else:
            flat[position % flat.size] = value
        f.arrays[name] = array

    return f"entry {name}={value!r}", apply


@st.composite
def bad_level(draw):
    # NaN is a level only where a series had no trade; inf never.
    value = draw(st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e5]))

    def apply(f: Forgery) -> None:
        traded = f.arrays["forecast.n_nonzero"] > 0
        array = f.arrays["forecast.level"].copy()
        array[np.flatnonzero(traded)[draw(st.integers(0, int(traded.sum()) - 1))]] = value
        f.arrays["forecast.level"] = array

    return f"level {value}", apply


@st.composite
def residual_variance(draw):
    detector = draw(st.sampled_from(["residual", "regularity"]))
    which = draw(st.integers(1, 3))
    value = draw(
        st.floats(max_value=0, exclude_max=which > 1) if which > 1 else st.floats(max_value=0)
    )
    name = f"detector.{detector}.calibration"

    def apply(f: Forgery) -> None:
        array = f.arrays[name].copy()
        array[which] = value
        f.arrays[name] = array

    return f"{detector} variance [{which}]={value}", apply


@st.composite
def unsorted(draw):
    name = draw(
        st.sampled_from(
            ["detector.isolation.training_scores", "forecast.pit_tables", "forecast.error_shapes"]
        )
    )

    def apply(f: Forgery) -> None:
        array = f.arrays[name].copy()
        row = array.reshape(-1, array.shape[-1])[0]
        row[0], row[-1] = row[-1] + 0.001, row[0]
        f.arrays[name] = array

    return f"unsorted {name}", apply


NUMERIC = ["|b1", "|i1", "|u1", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"]


@st.composite
def array_dtype(draw):
    name = draw(
        st.sampled_from(PER_SERIES + OTHER_SIZED + ["ensemble.threshold", "forecast._train_months"])
    )
    dtype = draw(st.sampled_from(NUMERIC))

    def apply(f: Forgery) -> None:
        array = f.arrays[name]
        target = dtype if dtype != array.dtype.str else ("<f4" if dtype != "<f4" else "<f8")
        with np.errstate(all="ignore"):
            f.arrays[name] = np.nan_to_num(array).astype(target)

    return f"dtype {name} {dtype}", apply


@st.composite
def array_missing(draw):
    name = draw(
        st.sampled_from(
            PER_SERIES
            + OTHER_SIZED
            + [
                "ensemble.threshold",
                "forecast._train_months",
                "detector.isolation.forest.offset",
                "detector.mirror.pooled",
            ]
        )
    )

    def apply(f: Forgery) -> None:
        del f.arrays[name]

    return f"missing array {name}", apply


@st.composite
def array_foreign(draw):
    stem = draw(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True))
    name = (
        draw(st.sampled_from(["forecast.", "", "ensemble.", "detector.bogus.", "calibration."]))
        + stem
    )
    if name.startswith(
        ("detector.residual.", "detector.mirror.", "detector.isolation.", "detector.rerouting.")
    ):
        name = "x" + name

    def apply(f: Forgery) -> None:
        f.arrays["zz" + name if name in f.arrays else name] = np.zeros(3)

    return f"foreign array {name}", apply


@st.composite
def npy_bomb(draw):
    name = draw(st.sampled_from([*PER_SERIES, "detector.mirror.log_ratio", "ensemble.threshold"]))
    exponent = draw(st.integers(7, 18))
    version = draw(st.sampled_from([1, 2]))

    def apply(f: Forgery) -> None:
        array = f.arrays.pop(name)
        shape = (10**exponent, *array.shape[1:])
        header = f"{{'descr': '{array.dtype.str}', 'fortran_order': False, 'shape': {shape}, }}"
        header += " " * (63 - (len(header) + 10) % 64) + "\n"
        size = len(header).to_bytes(2 if version == 1 else 4, "little")
        data = b"\x93NUMPY" + bytes([version, 0]) + size + header.encode() + array.tobytes()[:64]
        f.raw_members[name] = ({"dtype": array.dtype.str, "shape": list(shape)}, data)

    return f"npy bomb {name} 1e{exponent}", apply


@st.composite
def forest_children(draw):
    side = draw(st.sampled_from(["children_left", "children_right"]))
    kind = draw(st.sampled_from(["before", "beyond", "leaf"]))
    big = draw(st.integers(0, 10**12))

    def apply(f: Forgery) -> None:
        name = f"detector.isolation.forest.{side}"
        children = f.arrays[name].copy()
        offsets = f.arrays["detector.isolation.forest.tree_offsets"]
        internal = np.flatnonzero(children != -1)
        node = int(internal[big % len(internal)])
        tree = int(np.searchsorted(offsets, node, side="right") - 1)
        local, size = node - offsets[tree], offsets[tree + 1] - offsets[tree]
        children[node] = {
            "before": -(big % 10**6) - 2 if big % 2 else local,
            "beyond": size + big % 10**6,
            "leaf": -1,
        }[kind]
        f.arrays[name] = children

    return f"forest {side} {kind}", apply


# -- tables -----------------------------------------------------------------------------

KEY_TABLES = ["series", "detector.mirror.pairs"]
BAD_HS = st.one_of(
    st.text(alphabet="0123456789", min_size=1, max_size=12).filter(lambda s: len(s) != 6),
    st.sampled_from(["٨٥٤٢٣١", "８５４２３１", "85423a", " 85423", "854 31", "", "85.423"]),
    st.text(max_size=8).filter(lambda s: not (len(s) == 6 and s.isascii() and s.isdigit())),
)
BAD_CELL = {
    "hs": BAD_HS,
    "reporter": BAD_COUNTRY.filter(lambda x: x is not None and not isinstance(x, int)),
    "partner": BAD_COUNTRY.filter(lambda x: x is not None and not isinstance(x, int)),
    "flow": st.text(max_size=10).filter(
        lambda s: s not in ("export", "import", "re-export", "re-import")
    ),
}


@st.composite
def bad_cell(draw):
    table = draw(st.sampled_from(KEY_TABLES))
    column = draw(st.sampled_from(sorted(BAD_CELL)))
    value = draw(st.one_of(BAD_CELL[column], st.none()))
    row = draw(st.integers(0, 10**6))

    def apply(f: Forgery) -> None:
        frame = f.tables[table]
        frame[column] = frame[column].astype(object)
        frame.loc[row % len(frame), column] = value

    return f"cell {table}.{column}={value!r:.40}", apply


@st.composite
def self_trade_or_duplicate(draw):
    table = draw(st.sampled_from(KEY_TABLES))
    kind = draw(st.sampled_from(["self", "duplicate"]))
    row, other = draw(st.integers(0, 10**6)), draw(st.integers(1, 10**6))

    def apply(f: Forgery) -> None:
        frame = f.tables[table]
        i = row % len(frame)
        if kind == "self":
            frame.loc[i, "partner"] = frame.loc[i, "reporter"]
        else:
            j = (i + other % (len(frame) - 1) + 1) % len(frame)
            for column in ("reporter", "partner", "flow", "hs"):
                frame.loc[i, column] = frame.loc[j, column]

    return f"{kind} {table}", apply


@st.composite
def table_rows(draw):
    table = draw(st.sampled_from([*KEY_TABLES, "publication_norms"]))
    # The norms may name any reporters, but each once: only repeats are malformed.
    change = draw(st.integers(1 if table == "publication_norms" else -300, 50).filter(bool))

    def apply(f: Forgery) -> None:
        if table not in f.tables:
            f.tables[table] = pd.DataFrame({"reporter": ["DEU"], "rows": [1.0], "value": [-1.0]})
            return
        frame = f.tables[table]
        if change < 0:
            f.tables[table] = frame.iloc[: max(len(frame) + change, 0)].reset_index(drop=True)
        else:
            # Extra rows repeat existing keys (or, for the norms, a reporter).
            extra = frame.iloc[np.arange(change) % len(frame)]
            f.tables[table] = pd.concat([frame, extra], ignore_index=True)

    return f"rows {table} {change:+d}", apply


@st.composite
def table_columns(draw):
    table = draw(st.sampled_from([*KEY_TABLES, "series"]))
    kind = draw(
        st.sampled_from(
            ["hs_int", "drop", "rename", "add", "n_nonzero_float", "reporter_int", "swap"]
        )
    )
    name = draw(st.text(min_size=1, max_size=8))

    def apply(f: Forgery) -> None:
        frame = f.tables[table]
        if kind == "hs_int" or (kind == "n_nonzero_float" and "n_nonzero" not in frame):
            frame["hs"] = frame["hs"].astype(np.int64)
        elif kind == "drop":
            f.tables[table] = frame.drop(columns=[frame.columns[len(name) % len(frame.columns)]])
        elif kind == "rename":
            column = frame.columns[len(name) % len(frame.columns)]
            f.tables[table] = frame.rename(columns={column: column + "_" + name})
        elif kind == "add":
            frame["zz_" + name] = 1
        elif kind == "n_nonzero_float":
            frame["n_nonzero"] = frame["n_nonzero"].astype(np.float64)
        elif kind == "reporter_int":
            frame["reporter"] = np.arange(len(frame))
        else:
            frame.insert(0, "hs", frame.pop("hs"))

    return f"columns {table} {kind}", apply


@st.composite
def table_missing(draw):
    table = draw(st.sampled_from(KEY_TABLES))

    def apply(f: Forgery) -> None:
        del f.tables[table]

    return f"missing table {table}", apply


@st.composite
def n_nonzero(draw):
    value = draw(st.integers(-(2**40), 2**40))
    row = draw(st.integers(0, 10**6))

    def apply(f: Forgery) -> None:
        frame = f.tables["series"]
        i = row % len(frame)
        frame.loc[i, "n_nonzero"] = value if value != frame.loc[i, "n_nonzero"] else value + 1

    return f"n_nonzero {value}", apply


@st.composite
def bad_norms(draw):
    column = draw(st.sampled_from(["rows", "value", "reporter"]))
    value = draw(
        st.one_of(NON_FINITE, st.floats(max_value=0, exclude_max=True))
        if column != "reporter"
        else BAD_COUNTRY.filter(lambda x: isinstance(x, str))
    )

    def apply(f: Forgery) -> None:
        frame = f.tables.get("publication_norms")
        if frame is None:
            f.tables["publication_norms"] = frame = pd.DataFrame(
                {"reporter": ["DEU", "DEU"], "rows": [1.0, 1.0], "value": [1.0, 1.0]}
            )
        frame[column] = frame[column].astype(object if column == "reporter" else np.float64)
        frame.loc[0, column] = value

    return f"norms {column}={value!r}", apply


MUTATIONS = st.one_of(
    bad_value(),
    missing_key(),
    unknown_key(),
    duplicate_key(),
    deep_nesting(),
    bad_literal(),
    array_length(),
    bad_entry(),
    bad_level(),
    residual_variance(),
    unsorted(),
    array_dtype(),
    array_missing(),
    array_foreign(),
    npy_bomb(),
    forest_children(),
    bad_cell(),
    self_trade_or_duplicate(),
    table_rows(),
    table_columns(),
    table_missing(),
    n_nonzero(),
    bad_norms(),
)


def test_the_unmutated_forgery_loads(base, tmp_path):
    """The harness itself writes a valid artifact: refusals come from the mutations."""
    path = base.copy().write(tmp_path / "model")
    assert anomaly.load(path).keys_.shape[0] == 233
    assert inspect_exit(path)[0] == 0


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="ANOMALY_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# One mutation per family, so that no second one can undo the first.
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3, unique_by=lambda m: m[0].split()[0]))
def test_every_hash_consistent_malformed_artifact_is_refused_with_exit_4(base, mutations):
    forgery = base.copy()
    (label, apply), *more = mutations
    apply(forgery)  # the first always applies to the real model
    labels = [label]
    for label, apply in more:
        # A later mutation may target what an earlier one removed: then it is skipped.
        with contextlib.suppress(
            KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError
        ):
            apply(forgery)
            labels.append(label)
    assert_refused(forgery, "; ".join(labels))


def test_count_of_distinct_refused_artifacts():
    """Reports the campaign's size (run with -s to see it)."""
    print(f"\nfuzz: {len(REFUSED)} distinct hash-consistent malformed artifacts refused")
    assert len(REFUSED) >= min(EXAMPLES, 1000) * 0.8


# -- the cases of issue 14, by name ---------------------------------------------------


def _set(path: tuple, value: Any) -> Callable[[Forgery], None]:
    def apply(f: Forgery) -> None:
        _at(f.manifest, path[:-1])[path[-1]] = value

    return apply


def _delete(path: tuple) -> Callable[[Forgery], None]:
    def apply(f: Forgery) -> None:
        del _at(f.manifest, path[:-1])[path[-1]]

    return apply


def _array(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Forgery], None]:
    def apply(f: Forgery) -> None:
        f.arrays[name] = change(f.arrays[name].copy())

    return apply


def _table(name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable:
    def apply(f: Forgery) -> None:
        f.tables[name] = change(f.tables[name].copy())

    return apply


def _deep(f: Forgery) -> None:
    f.manifest["metadata"]["extra"] = "@@DEEP@@"
    f.text_edits.append(lambda text: text.replace('"@@DEEP@@"', "[" * 100_000 + "]" * 100_000))


def _npy_bomb(f: Forgery) -> None:
    f.arrays.pop("forecast.level")
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    f.raw_members["forecast.level"] = ({"dtype": "<f8", "shape": [10**11]}, data + b"\0" * 64)


def _with(column: str, value: Any, row: int = 0) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return change


def _duplicate_key_row(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("reporter", "partner", "flow", "hs"):
        frame.loc[1, column] = frame.loc[0, column]
    return frame


ISSUE_CASES: dict[str, tuple[Callable[[Forgery], None], str]] = {
    "missing config.forecaster": (
        _delete(("config", "forecaster")),
        r"config\.forecaster: is missing",
    ),
    "unknown model parameter": (
        _set(("config", "model", "alpha"), 1),
        r"config\.model\.alpha: is not a parameter",
    ),
    "unknown forecaster parameter": (
        _set(("config", "forecaster", "params", "smoothing"), 0.5),
        r"config\.forecaster\.params\.smoothing: is not a parameter",
    ),
    "100k-deep JSON": (_deep, r"nests 100002 levels deep"),
    "npy header claiming 1e11 rows": (
        _npy_bomb,
        r"declares arrays of .* more than arrays\.npz holds",
    ),
    "hs stored as int64": (
        _table("series", lambda t: t.assign(hs=t["hs"].astype(np.int64))),
        r"series\.parquet column 'hs': is of type int64, expected text",
    ),
    "duplicate series keys": (_table("series", _duplicate_key_row), r"key\(s\) appear twice"),
    "hs_level 7": (_set(("config", "model", "hs_level"), 7), r"hs_level: 7 is not one of"),
    "hs_level '6'": (_set(("config", "model", "hs_level"), "6"), r"hs_level: '6' is not one of"),
    "series table cut to 10 rows": (
        _table("series", lambda t: t.head(10)),
        r"series\.parquet rows: has size 10, but the trained series .* is 233",
    ),
    "NaN threshold": (
        _array("ensemble.threshold", lambda a: np.array(np.nan)),
        r"arrays\.npz ensemble\.threshold: nan is not a finite score",
    ),
    "threshold -1e9": (
        _array("ensemble.threshold", lambda a: np.array(-1e9)),
        r"ensemble\.threshold: -1000000000\.0 is not a finite score",
    ),
    "infinite variance": (
        _array("forecast.variance", lambda a: np.where(np.arange(len(a)) == 3, np.inf, a)),
        r"forecast\.variance: 1 value\(s\) are not finite numbers .*inf at flat index 3",
    ),
    "negative variance": (
        _array("forecast.variance", lambda a: -a),
        r"forecast\.variance: 233 value\(s\) are not finite numbers in \(0",
    ),
    "currency XYZ": (
        _set(("metadata", "currency"), "XYZ"),
        r"metadata\.currency: 'XYZ' is not one of",
    ),
    "training_window 2021-13": (
        _set(("metadata", "training_window", "end"), "2021-13"),
        r"metadata\.training_window\.end: '2021-13' is not a month",
    ),
    "training_window of another length": (
        _set(("metadata", "training_window", "start"), "2019-01"),
        r"forecast\._train_months: is 48, but metadata\.training_window 2019-01\.\.2021-12 has 36",
    ),
    "unknown detector": (
        _set(("config", "detectors", 1, "name"), "oracle"),
        r"'oracle' is not a known",
    ),
    "unknown forecaster class": (
        _set(("config", "forecaster", "class"), "os.system"),
        r"'os\.system' is not a known forecaster",
    ),
    "odd-length HS code": (_table("series", _with("hs", "85423")), r"not 6 ASCII digits"),
    "non-ASCII HS digits": (_table("series", _with("hs", "٨٥٤٢٣١")), r"not 6 ASCII digits"),
    "self-trade": (_table("series", _with("partner", "__R")), r"not an ISO alpha-3|not known ISO"),
    "pairs table shorter than log_ratio": (
        _table("detector.mirror.pairs", lambda t: t.head(3)),
        r"detector\.mirror\.pairs\.parquet rows: has size 3, but 'pairs' elsewhere is",
    ),
}


@pytest.mark.parametrize("case", sorted(ISSUE_CASES))
def test_each_case_of_the_issue_is_refused_naming_file_and_field(base, case, tmp_path):
    apply, message = ISSUE_CASES[case]
    forgery = base.copy()
    apply(forgery)
    path = forgery.write(tmp_path / "model")
    with pytest.raises(ArtifactError, match=message):
        anomaly.load(path)
    code, err = inspect_exit(path)
    assert code == 4, err
    assert err.startswith("anomaly: error: ") and err.count("\n") == 1 and len(err) < 1000


def test_self_trade_in_the_series_is_refused(base, tmp_path):
    forgery = base.copy()
    series = forgery.tables["series"]
    series.loc[0, "partner"] = series.loc[0, "reporter"]
    path = forgery.write(tmp_path / "model")
    with pytest.raises(ArtifactSchemaError, match=r"trade with themselves"):
        anomaly.load(path)


def test_released_fixtures_pass_the_schema():
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"
    for version in ("format-v1", "format-v2"):
        assert inspect_exit(fixtures / version)[0] == 0
        anomaly.load(fixtures / version, strict=False)


def test_a_share_read_over_fewer_months_than_it_traded_in_is_refused(base, tmp_path):
    forgery = base.copy()
    traded = forgery.arrays["forecast.n_nonzero"]
    months = forgery.arrays["forecast.occurrence_months"].copy()
    row = int(np.argmax(traded))
    months[row] = traded[row] - 1
    forgery.arrays["forecast.occurrence_months"] = months
    path = forgery.write(tmp_path / "model")
    with pytest.raises(ArtifactSchemaError, match=r"occurrence_months.*below forecast\.n_nonzero"):
        anomaly.load(path)
