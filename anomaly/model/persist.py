"""A fitted model's components as an artifact, and back, without pickle.

Each component gives its own state — the forecaster its arrays and per-series table,
each detector a :class:`~anomaly.detect.DetectorState` — and this module only lays
them out (format version 2):

- ``config``: ``model`` (the model's parameters), ``detection`` (the
  :class:`~anomaly.detect.DetectionConfig`), ``forecaster`` (``class``, ``params``)
  and ``detectors`` (a list of ``name``, ``params``, in the model's order);
- arrays ``forecast.*``, ``ensemble.threshold`` and ``detector.<name>.*``;
- tables ``series`` (trained keys and the forecaster's per-series record) and
  ``detector.<name>.*``.

Classes are rebuilt only from fixed registries (:data:`anomaly.forecast.FORECASTERS`,
:data:`anomaly.detect.DETECTORS`), never from a name imported at load time. Artifacts
of format version 1 (one fixed set of detectors, their arrays under other names) are
read through :func:`_components_v1`.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly.artifacts import Artifact, read_artifact, register_schema, write_artifact
from anomaly.detect import (
    DETECTORS,
    DetectionConfig,
    Detector,
    DetectorState,
    Ensemble,
    detector_class,
)
from anomaly.detect.forest import IsolationForestArrays
from anomaly.detect.iforest import FEATURES as ISOLATION_FEATURES
from anomaly.errors import ArtifactError, ArtifactSchemaError, describe_items, shorten
from anomaly.forecast import FORECASTERS, Forecaster
from anomaly.forecast.distribution import PIT_LEVELS
from anomaly.forecast.pooled import OCCURRENCE_STRATA
from anomaly.io import combine_codes
from anomaly.model.placebo import MIN_PLACEBO_MONTHS, placebo_length
from anomaly.reference import CHP_VERSIONS, CONTROL_SETS
from anomaly.reference.controls import HS_PREFIX
from anomaly.schema import CURRENCIES, FLOWS, SERIES_KEY_COLUMNS

MODEL_CLASS = "TradeAnomalyModel"


@dataclass(frozen=True)
class Components:
    """What a fitted model is made of, as read from (or written to) an artifact.

    Attributes
    ----------
    params : dict
        The model's constructor parameters (JSON values).
    forecaster : Forecaster
        Fitted.
    keys : pandas.DataFrame
        The trained series, in the forecaster's row order.
    ensemble : Ensemble
        Fitted detectors and the alert threshold.
    norms : pandas.DataFrame
        Each reporter's usual month in training (index: reporter; ``rows``,
        ``value``), for telling partial months.
    metadata : dict
        ``training_window``, ``data_fingerprint``, ``n_series``, ``currency``.
    """

    params: dict[str, Any]
    forecaster: Forecaster
    keys: pd.DataFrame
    ensemble: Ensemble
    norms: pd.DataFrame
    metadata: dict[str, Any]


def save_components(path: str | Path, components: Components) -> Path:
    """Write ``components`` as an artifact directory at ``path`` (atomically)."""
    forecaster, ensemble = components.forecaster, components.ensemble
    arrays = {f"forecast.{k}": np.asarray(v) for k, v in forecaster.fitted_state().items()}
    arrays["ensemble.threshold"] = np.array(ensemble.threshold_)
    tables = {
        "series": pd.concat(
            [
                components.keys.reset_index(drop=True),
                forecaster.series_info_.reset_index(drop=True),
            ],
            axis=1,
        ),
        "publication_norms": pd.DataFrame(
            {
                "reporter": components.norms.index.astype(str),
                "rows": components.norms["rows"].to_numpy(np.float64),
                "value": components.norms["value"].to_numpy(np.float64),
            }
        ),
    }
    detectors = []
    for detector in ensemble.detectors:
        state = detector.to_state()
        prefix = f"detector.{detector.name}."
        arrays |= {prefix + name: np.asarray(value) for name, value in state.arrays.items()}
        tables |= {prefix + name: table for name, table in state.tables.items()}
        detectors.append({"name": detector.name, "params": _json_params(state.params)})
    config = {
        "model": _json_params(components.params),
        "detection": ensemble.config.to_dict(),
        "forecaster": {
            "class": type(forecaster).__name__,
            "params": _json_params(forecaster.get_params()),
        },
        "detectors": detectors,
    }
    return write_artifact(
        path,
        model_class=MODEL_CLASS,
        config=config,
        arrays=arrays,
        tables=tables,
        metadata=components.metadata,
    )


def read_components(path: str | Path, *, strict: bool = False) -> Components:
    """Read an artifact (directory or ``.zip``), verified before use, as components.

    The artifact is checked against :data:`SCHEMA` (its manifest before any data file
    is read, then its values) before any component is built.

    Raises
    ------
    ArtifactError
        A subclass naming the file and field: the artifact is tampered, truncated,
        incompatible, or breaks the schema.
    """
    artifact = read_artifact(path, strict=strict, schema=SCHEMA)
    try:
        return _build_components(artifact, path)
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
        # The schema should have refused whatever gets here; never let it pass as a
        # crash (or as a model).
        raise ArtifactSchemaError(
            str(path),
            MANIFEST_FILE,
            "components",
            f"the model cannot be rebuilt from it ({type(error).__name__}: {error})",
        ) from error


def _build_components(artifact: Artifact, path: str | Path) -> Components:
    if artifact.model_class != MODEL_CLASS:
        raise ArtifactError(f"{path}: holds a {artifact.model_class!r}, not a {MODEL_CLASS}")
    if artifact.manifest["format_version"] == 1:
        artifact = _components_v1(artifact)
    config, arrays, tables = artifact.config, artifact.arrays, artifact.tables
    detection = DetectionConfig.from_dict(config["detection"])
    detectors = [_detector(entry, detection, arrays, tables, path) for entry in config["detectors"]]
    model = _python_params(config["model"])
    ensemble = Ensemble(detectors, detection, float(model["false_alarm_rate"]))
    ensemble.threshold_ = float(arrays["ensemble.threshold"])

    series = tables["series"]
    keys = series[list(SERIES_KEY_COLUMNS)].copy()
    forecaster = _forecaster(config["forecaster"], path)
    state = {k.removeprefix("forecast."): v for k, v in arrays.items() if k.startswith("forecast.")}
    window = artifact.metadata["training_window"]
    forecaster.restore(state, series.drop(columns=list(SERIES_KEY_COLUMNS)), window["end"])
    return Components(model, forecaster, keys, ensemble, _norms(tables), dict(artifact.metadata))


def _norms(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The reporters' usual months; none in artifacts written before anomaly kept them
    (partial months are then told from the scored window alone)."""
    if "publication_norms" not in tables:
        return pd.DataFrame({"rows": pd.Series(dtype=float), "value": pd.Series(dtype=float)})
    table = tables["publication_norms"]
    return table.set_index("reporter")[["rows", "value"]].astype(np.float64)


def _forecaster(entry: dict[str, Any], path: str | Path) -> Forecaster:
    name = entry["class"]
    if name not in FORECASTERS:
        raise ArtifactError(
            f"{path}: unknown forecaster class {name!r}; known: {sorted(FORECASTERS)}"
        )
    return FORECASTERS[name](**_python_params(entry["params"]))


def _detector(
    entry: dict[str, Any],
    config: DetectionConfig,
    arrays: dict[str, np.ndarray],
    tables: dict[str, pd.DataFrame],
    path: str | Path,
) -> Detector:
    name = entry["name"]
    cls = detector_class(name)
    if cls is None:
        raise ArtifactError(
            f"{path}: unknown detector {name!r}; known: {sorted(DETECTORS)} (a detector of "
            "another package is found once registered or installed as an entry point "
            "of 'anomaly.detectors')"
        )
    prefix = f"detector.{name}."
    state = DetectorState(
        params=_python_params(entry["params"]),
        arrays={k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)},
        tables={k.removeprefix(prefix): v for k, v in tables.items() if k.startswith(prefix)},
    )
    return cls.from_state(state, config)


def _components_v1(artifact: Artifact) -> Artifact:
    """A format-1 artifact laid out as format 2.

    Format 1 stored the four detectors of anomaly 0.1.0 under fixed names (the renames
    are the schema's: :data:`_V1_ARRAYS`, :data:`_V1_TABLES`, :func:`_v1_config`); the
    residual calibration of the earliest models was ``[centre, spread]``.
    """
    arrays = {
        renamed: value
        for name, value in artifact.arrays.items()
        if (renamed := _v1_array_name(name)) is not None
    }
    residual = arrays["detector.residual.calibration"]
    if len(residual) == 2:
        centre, spread = (float(x) for x in residual)
        arrays["detector.residual.calibration"] = np.array([centre, spread**2, 0.0, 0.0])
    tables = {_V1_TABLES.get(name, name): table for name, table in artifact.tables.items()}
    config = _v1_config(artifact.config)
    return Artifact(artifact.manifest, config, artifact.metadata, arrays, tables)


def _json_params(params: dict) -> dict:
    """Parameters as JSON values: tuples as lists, infinities as strings."""
    out = {}
    for name, value in params.items():
        if isinstance(value, float) and math.isinf(value):
            value = "inf" if value > 0 else "-inf"
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def _python_params(params: dict) -> dict:
    """The inverse of :func:`_json_params` (lists back to tuples)."""
    out = {}
    for name, value in params.items():
        if value in ("inf", "-inf"):
            value = float(value)
        elif isinstance(value, list):
            value = tuple(value)
        out[name] = value
    return out


# -- the content schema ------------------------------------------------------------
#
# An artifact may come from anywhere: its digests only prove that its files belong
# together. Everything the components will use is checked against the documented
# layout (docs/artifact-format.md, "What a TradeAnomalyModel stores") before any
# component is built: first the manifest (config, metadata, every array's dtype and
# shape, every table's columns and row count, and how they agree across files) before
# a byte of data is read, then the values. Every failure is an ArtifactSchemaError
# naming the file and the field.

MANIFEST_FILE, ARRAYS_FILE = "manifest.json", "arrays.npz"
#: HS digits a model's series may have.
HS_LEVELS: tuple[int, ...] = (2, 4, 6, 8, 10)
#: Bounds on stored numbers that no fitted model reaches but a forged one could use to
#: overflow a forecast (``exp`` of a log level) or a score.
MAX_ABS_LOG = 100.0
MAX_VARIANCE = 1e4
MAX_THRESHOLD = 1000.0
#: Tree count, months and similar counts above these are not a model but an attack on
#: memory or time.
MAX_COUNT = 10**9
_ALPHA3 = re.compile(r"[A-Z]{3}")
_TEXT_TYPE = re.compile(
    r"string|large_string|dictionary<values=(string|large_string), "
    r"indices=u?int(8|16|32|64), ordered=[01]>"
)

Validator = Callable[[Any], "str | None"]


def _kind(value: object) -> str:
    return "a bool" if isinstance(value, bool) else f"a {type(value).__name__}"


def _integer(lo: int | None = None, hi: int | None = None) -> Validator:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"should be an integer, got {_kind(value)} {shorten(repr(value))}"
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"{shorten(value)} is outside [{lo}, {hi}]"
        return None

    return check


def _number(
    lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False, hi_open: bool = False
) -> Validator:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"should be a number, got {_kind(value)} {shorten(repr(value))}"
        if not math.isfinite(value):
            return f"should be finite, got {value}"
        if value < lo or value > hi or (lo_open and value == lo) or (hi_open and value == hi):
            left, right = "(" if lo_open else "[", ")" if hi_open else "]"
            return f"{shorten(value)} is outside {left}{lo}, {hi}{right}"
        return None

    return check


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"should be true or false, got {_kind(value)}"


def _one_of(*choices: object) -> Validator:
    def check(value: Any) -> str | None:
        # Compared with their types: 6.0, "6" and True are not the integer 6.
        if any(type(value) is type(choice) and value == choice for choice in choices):
            return None
        listed = ", ".join(map(repr, choices))
        return f"{shorten(repr(value))} is not one of {shorten(listed, 200)}"

    return check


def _either(*validators: Validator) -> Validator:
    def check(value: Any) -> str | None:
        problems = [validator(value) for validator in validators]
        if any(problem is None for problem in problems):
            return None
        return " or ".join(dict.fromkeys(p for p in problems if p))

    return check


@lru_cache(maxsize=1)
def _known_countries() -> frozenset[str]:
    from anomaly.reference import countries

    return frozenset(countries()["alpha3"])


def _country(value: Any) -> str | None:
    if not isinstance(value, str) or not _ALPHA3.fullmatch(value):
        return f"{shorten(repr(value))} is not an ISO alpha-3 code"
    if value not in _known_countries():
        return f"{value!r} is not a country of the reference table"
    return None


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _month(value: Any) -> str | None:
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        return f"{shorten(repr(value))} is not a month (YYYY-MM)"
    return None


def _list_of(item: Validator, *, max_length: int = 1000, unique: bool = True) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"should be a list, got {_kind(value)}"
        if len(value) > max_length:
            return f"has {len(value)} items, more than {max_length}"
        for position, element in enumerate(value):
            problem = item(element)
            if problem:
                return f"item {position}: {problem}"
        if unique and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
            return "lists an item twice"
        return None

    return check


_NONE = _one_of(None)
_SEED = _either(_integer(0, 2**32 - 1), _NONE)
_AUTO_OR_WEIGHT = _either(_one_of("auto"), _number(0, 1e9))

#: Parameters added to the model since format 2 was first written: an artifact that
#: lacks them was written before they existed and loads with their defaults.
ADDED_MODEL_PARAMS = frozenset({"controlled"})


def _hs_prefix(value: Any) -> str | None:
    if not isinstance(value, str) or not HS_PREFIX.fullmatch(value):
        return f"{shorten(repr(value))} is not an HS code of 2, 4 or 6 digits"
    return None


#: The model's own parameters (``config.model``); all required but those of
#: :data:`ADDED_MODEL_PARAMS`.
MODEL_PARAMS_SCHEMA: dict[str, Validator] = {
    "hs_level": _one_of(*HS_LEVELS),
    "chp_version": _one_of(*CHP_VERSIONS),
    "controlled": _either(_one_of(*CONTROL_SETS), _list_of(_hs_prefix, max_length=20_000)),
    "placebo_months": _integer(1, 1200),
    "false_alarm_rate": _number(0, 1, lo_open=True, hi_open=True),
    "n_estimators": _integer(1, 100_000),
    "random_state": _SEED,
}
#: :class:`~anomaly.detect.DetectionConfig` (``config.detection``); all required.
DETECTION_SCHEMA: dict[str, Validator] = {
    "sanctioned": _list_of(_country),
    "transit": _list_of(_country),
    "band_coverage": _number(0, 1, lo_open=True, hi_open=True),
    "signal_z": _number(0, 40, lo_open=True),
    "min_placebo_values": _integer(1, MAX_COUNT),
    "min_scope_series": _integer(0, MAX_COUNT),
    "min_control_series": _integer(0, MAX_COUNT),
    "sanctions_onset": _month,
}
_PER_SERIES_PARAMS: dict[str, Validator] = {
    "max_horizon": _integer(1, 1200),
    "n_jobs": _either(_integer(1, 4096), _integer(-4096, -1)),
    "chunk_size": _integer(1, MAX_COUNT),
}
#: Each known forecaster's constructor parameters (``config.forecaster.params``); one
#: that is missing takes its default (format 1 did not record ``n_threads``).
FORECASTER_PARAMS_SCHEMA: dict[str, dict[str, Validator]] = {
    "PooledForecaster": {
        "half_life": _either(_one_of("auto", "inf"), _number(0, 1e6, lo_open=True)),
        "damping": _number(0, 1, hi_open=True),
        "trend_threshold": _number(0, 1e6),
        "seasonal_strength": _AUTO_OR_WEIGHT,
        "occurrence_strength": _AUTO_OR_WEIGHT,
        "scale_strength": _number(0, 1e9),
        "pool_by": _list_of(_one_of(*SERIES_KEY_COLUMNS)),
        "calibrate": _boolean,
        "chunk_size": _integer(1, MAX_COUNT),
        "n_threads": _either(_integer(1, 4096), _NONE),
    },
    "ETSForecaster": _PER_SERIES_PARAMS,
    "UnobservedComponentsForecaster": _PER_SERIES_PARAMS,
    "PrewarMeanForecaster": {},
    "SeasonalNaiveForecaster": {},
}
#: Each built-in detector's parameters (``config.detectors[i].params``).
DETECTOR_PARAMS_SCHEMA: dict[str, dict[str, Validator]] = {
    "residual": {},
    "mirror": {},
    "rerouting": {},
    "baseline": {},
    "isolation": {
        "n_estimators": _integer(1, 100_000),
        "max_samples": _either(
            _one_of("auto"), _integer(1, MAX_COUNT), _number(0, 1, lo_open=True)
        ),
        "random_state": _SEED,
    },
}

# Arrays: name -> (dtype, shape); a str in a shape is a size that must agree wherever
# it appears ("n": the trained series).
ArraySpec = dict[str, tuple[str, tuple[int | str, ...]]]
FORECASTER_ARRAYS: dict[str, ArraySpec] = {
    "PooledForecaster": {
        "_train_months": ("<i8", ()),
        "damping": ("<f8", ()),
        "error_shapes": ("<f8", ("shapes", "shape_levels")),
        "half_life": ("<f8", ()),
        "level": ("<f8", ("n",)),
        "log_smearing": ("<f8", ("n",)),
        "n_effective": ("<f8", ("n",)),
        "n_nonzero": ("<i8", ("n",)),
        "new_series": ("<f8", (3,)),
        "occurrence_strength": ("<f8", ()),
        "p_nonzero": ("<f8", ("n",)),
        "pit_tables": ("<f8", ("pit_strata", "pit_levels")),
        "prior_coef": ("<f8", (2,)),
        "season": ("<f4", ("n", 12)),
        "shock_months": ("|b1", ("months",)),
        "trend": ("<f8", ("n",)),
        "variance": ("<f8", ("n",)),
    },
    "ETSForecaster": {
        "_train_months": ("<i8", ()),
        "loc": ("<f8", ("n", "horizon")),
        "scale": ("<f8", ("n", "horizon")),
    },
    "UnobservedComponentsForecaster": {
        "_train_months": ("<i8", ()),
        "loc": ("<f8", ("n", "horizon")),
        "scale": ("<f8", ("n", "horizon")),
    },
    "PrewarMeanForecaster": {
        "_train_months": ("<i8", ()),
        "mean": ("<f8", ("n",)),
        "errors": ("<f8", ("n", "months")),
    },
    "SeasonalNaiveForecaster": {
        "_train_months": ("<i8", ()),
        "last_year": ("<f8", ("n", 12)),
        "errors": ("<f8", ("n", "differences")),
    },
}
#: Arrays a forecaster writes only since some version (older artifacts lack them).
FORECASTER_OPTIONAL_ARRAYS: dict[str, ArraySpec] = {
    "PooledForecaster": {
        "horizon_growth": ("<f8", ()),
        "occurrence_months": ("<i8", ("n",)),
    },
}
_FOREST = "forest."
DETECTOR_ARRAYS: dict[str, ArraySpec] = {
    "residual": {"calibration": ("<f8", (4,))},
    "mirror": {
        "log_ratio": ("<f8", ("pairs",)),
        "pooled": ("<f8", ()),
        "calibration.edges": ("<f8", ("edges",)),
        "calibration.centres": ("<f8", ("bins",)),
        "calibration.spreads": ("<f8", ("bins",)),
    },
    "isolation": {
        "training_scores": ("<f8", ("placebo",)),
        _FOREST + "tree_offsets": ("<i8", ("trees+1",)),
        _FOREST + "children_left": ("<i8", ("nodes",)),
        _FOREST + "children_right": ("<i8", ("nodes",)),
        _FOREST + "feature": ("<i8", ("nodes",)),
        _FOREST + "threshold": ("<f8", ("nodes",)),
        _FOREST + "missing_go_to_left": ("|b1", ("nodes",)),
        _FOREST + "n_node_samples": ("<i8", ("nodes",)),
        _FOREST + "estimators_features": ("<i8", ("trees", "tree_features")),
        _FOREST + "n_features_in": ("<i8", ()),
        _FOREST + "max_samples": ("<i8", ()),
        _FOREST + "offset": ("<f8", ()),
    },
    "rerouting": {},
    "baseline": {
        "lengths": ("<f8", ("baseline_lengths",)),
        "quantiles": ("<f8", ("baseline_lengths", 2, "baseline_points")),
        "draws": ("<f8", ("baseline_lengths", 2)),
    },
    "regularity": {"calibration": ("<f8", (4,)), "placebo_values": ("<i8", (1,))},
}
#: Arrays a detector writes only since some version (older artifacts lack them).
DETECTOR_OPTIONAL_ARRAYS: dict[str, ArraySpec] = {
    "mirror": {"calibration.months": ("<f8", ())},
}
_KEY_COLUMNS = tuple((name, "text") for name in SERIES_KEY_COLUMNS)
# Tables: name -> (row count symbol, columns as (name, "text" or an Arrow type)).
TableSpec = tuple[str, tuple[tuple[str, str], ...]]
SERIES_TABLE: TableSpec = (
    "n",
    (*_KEY_COLUMNS, ("model", "text"), ("reason", "text"), ("n_nonzero", "int64")),
)
NORMS_TABLE: TableSpec = (
    "reporters",
    (("reporter", "text"), ("rows", "double"), ("value", "double")),
)
DETECTOR_TABLES: dict[str, dict[str, TableSpec]] = {"mirror": {"pairs": ("pairs", _KEY_COLUMNS)}}

# Format 1 stored the same numbers under fixed names (see _components_v1).
_V1_ARRAYS = {
    "calibration.residual": "detector.residual.calibration",
    "mirror.log_ratio": "detector.mirror.log_ratio",
    "mirror.pooled": "detector.mirror.pooled",
    "calibration.mirror.edges": "detector.mirror.calibration.edges",
    "calibration.mirror.centres": "detector.mirror.calibration.centres",
    "calibration.mirror.spreads": "detector.mirror.calibration.spreads",
    "calibration.iforest_training_scores": "detector.isolation.training_scores",
    "calibration.threshold": "ensemble.threshold",
}
_V1_PREFIXES = {"iforest.": "detector.isolation.forest."}
_V1_UNUSED = frozenset({"calibration.iforest_offset"})
_V1_TABLES = {"mirror_pairs": "detector.mirror.pairs"}
_V1_CONFIG = {"forecaster", "iforest", "model"}
_V1_IFOREST = {
    "false_alarm_rate": _number(0, 1, lo_open=True, hi_open=True),
    "max_samples": DETECTOR_PARAMS_SCHEMA["isolation"]["max_samples"],
    "n_estimators": _integer(1, 100_000),
    "random_state": _SEED,
}


def _v1_array_name(name: str) -> str | None:
    """The format-2 name of a format-1 array (None: stored but unused)."""
    if name in _V1_UNUSED:
        return None
    if name in _V1_ARRAYS:
        return _V1_ARRAYS[name]
    for old, new in _V1_PREFIXES.items():
        if name.startswith(old):
            return new + name.removeprefix(old)
    return name


def _v1_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A format-1 config in the format-2 layout (fixed detectors, default settings)."""
    forest = {k: v for k, v in config["iforest"].items() if k in ("n_estimators", "random_state")}
    forest["max_samples"] = config["iforest"].get("max_samples", "auto")
    return {
        "model": config["model"],
        "detection": DetectionConfig().to_dict(),
        "forecaster": config["forecaster"],
        "detectors": [
            {"name": "residual", "params": {}},
            {"name": "mirror", "params": {}},
            {"name": "isolation", "params": forest},
            {"name": "rerouting", "params": {}},
        ],
    }


class TradeAnomalySchema:
    """What a ``TradeAnomalyModel`` artifact must hold (format versions 1 and 2).

    Registered with :func:`anomaly.artifacts.register_schema`, so that
    :func:`anomaly.artifacts.verify_artifact` (``anomaly inspect``) applies it as
    :func:`read_components` does. See "Content schema" in docs/artifact-format.md.
    """

    # -- before any data file is read ---------------------------------------------

    def check_manifest(self, manifest: Mapping[str, Any], where: str) -> None:
        """Config, metadata, array dtypes and shapes, table columns, and their agreement."""
        fail = _failing(where)
        if manifest["model_class"] != MODEL_CLASS:
            raise fail(
                MANIFEST_FILE,
                "model_class",
                f"holds a {shorten(repr(manifest['model_class']))}, not a {MODEL_CLASS}",
            )
        version = manifest["format_version"]
        config = self._config(manifest["config"], version, fail)
        metadata = manifest["metadata"]
        currency = metadata.get("currency")
        if currency is not None and currency not in CURRENCIES:
            raise fail(
                MANIFEST_FILE,
                "metadata.currency",
                f"{shorten(repr(currency))} is not one of {', '.join(CURRENCIES)} or null",
            )
        arrays = {
            renamed: (entry["dtype"], tuple(entry["shape"]))
            for name, entry in manifest["arrays"].items()
            if (renamed := _v1_array_name(name) if version == 1 else name) is not None
        }
        tables = {
            (_V1_TABLES.get(name, name) if version == 1 else name): (
                entry["rows"],
                tuple((c["name"], c["type"]) for c in entry["columns"]),
            )
            for name, entry in manifest["tables"].items()
        }
        sizes = {"n": metadata["n_series"]}
        expected_arrays: ArraySpec = {"ensemble.threshold": ("<f8", ())}
        forecaster = config["forecaster"]["class"]
        expected_arrays |= {
            f"forecast.{name}": spec for name, spec in FORECASTER_ARRAYS.get(forecaster, {}).items()
        }
        expected_arrays |= {
            f"forecast.{name}": spec
            for name, spec in FORECASTER_OPTIONAL_ARRAYS.get(forecaster, {}).items()
            if f"forecast.{name}" in arrays
        }
        expected_tables = {"series": SERIES_TABLE}
        if "publication_norms" in tables:
            expected_tables["publication_norms"] = NORMS_TABLE
        open_prefixes = []
        if forecaster not in FORECASTER_ARRAYS:
            open_prefixes.append("forecast.")
        for entry in config["detectors"]:
            name, prefix = entry["name"], f"detector.{entry['name']}."
            if name not in DETECTOR_ARRAYS:
                open_prefixes.append(prefix)  # a plugin's state is its own business
                continue
            # Arrays a newer version of a detector adds beside these are its own
            # business (its from_state reads or ignores them): allowed, not required.
            open_prefixes.append(prefix)
            spec = DETECTOR_ARRAYS[name]
            optional = DETECTOR_OPTIONAL_ARRAYS.get(name, {})
            spec = spec | {k: v for k, v in optional.items() if prefix + k in arrays}
            if name == "residual" and version == 1:
                # The earliest models stored [centre, spread]; it is read as [centre,
                # spread², 0, 0].
                found = arrays.get(prefix + "calibration", ("<f8", (4,)))[1]
                spec = {"calibration": ("<f8", found if found in ((2,), (4,)) else (4,))}
            expected_arrays |= {prefix + key: value for key, value in spec.items()}
            expected_tables |= {
                prefix + key: value for key, value in DETECTOR_TABLES.get(name, {}).items()
            }
        self._match_arrays(arrays, expected_arrays, open_prefixes, sizes, fail)
        self._match_tables(tables, expected_tables, open_prefixes, sizes, fail)
        self._match_sizes(config, sizes, fail)

    def _config(self, config: Mapping[str, Any], version: int, fail) -> dict[str, Any]:
        if version == 1:
            _exact_keys(config, _V1_CONFIG, "config", fail)
            _params(config["iforest"], _V1_IFOREST, "config.iforest", fail, required=False)
            config = _v1_config(config)
        else:
            _exact_keys(config, {"model", "detection", "forecaster", "detectors"}, "config", fail)
        _params(
            config["model"],
            _model_params_schema(),
            "config.model",
            fail,
            required=True,
            optional=ADDED_MODEL_PARAMS,
        )
        # Settings added since a model was written take their defaults, as on loading.
        _params(config["detection"], _detection_schema(), "config.detection", fail, required=False)
        forecaster = config["forecaster"]
        _exact_keys(forecaster, {"class", "params"}, "config.forecaster", fail)
        name = forecaster["class"]
        if not isinstance(name, str) or name not in FORECASTERS:
            raise fail(
                MANIFEST_FILE,
                "config.forecaster.class",
                f"{shorten(repr(name))} is not a known forecaster ({', '.join(FORECASTERS)})",
            )
        spec = _param_schema(
            FORECASTER_PARAMS_SCHEMA.get(name, {}), FORECASTERS[name]().get_params()
        )
        _params(forecaster["params"], spec, "config.forecaster.params", fail, required=False)
        detectors = config["detectors"]
        if not isinstance(detectors, list) or not detectors or len(detectors) > 100:
            raise fail(MANIFEST_FILE, "config.detectors", "should be a list of 1 to 100 detectors")
        seen = set()
        for position, entry in enumerate(detectors):
            field = f"config.detectors[{position}]"
            _exact_keys(entry, {"name", "params"}, field, fail)
            name = entry["name"]
            if not isinstance(name, str) or detector_class(name) is None:
                raise fail(
                    MANIFEST_FILE,
                    f"{field}.name",
                    f"{shorten(repr(name))} is not a known detector ({', '.join(DETECTORS)}; "
                    "another package's detector must be registered or installed)",
                )
            if name in seen:
                raise fail(MANIFEST_FILE, f"{field}.name", f"detector {name!r} is listed twice")
            seen.add(name)
            spec = _param_schema(DETECTOR_PARAMS_SCHEMA.get(name, {}), _detector_defaults(name))
            _params(entry["params"], spec, f"{field}.params", fail, required=False)
        return config

    def _match_arrays(self, arrays, expected, open_prefixes, sizes, fail) -> None:
        missing = sorted(set(expected) - set(arrays))
        if missing:
            raise fail(ARRAYS_FILE, missing[0], "is missing" + _more(missing))
        foreign = sorted(
            name
            for name in set(arrays) - set(expected)
            if not name.startswith(tuple(open_prefixes))
        )
        if foreign:
            raise fail(
                ARRAYS_FILE, foreign[0], "is not part of a TradeAnomalyModel" + _more(foreign)
            )
        for name, (dtype, shape) in sorted(expected.items()):
            found_dtype, found_shape = arrays[name]
            if found_dtype != dtype or len(found_shape) != len(shape):
                raise fail(
                    ARRAYS_FILE,
                    name,
                    f"is {found_dtype} of {len(found_shape)} dimension(s), expected {dtype} of "
                    f"{len(shape)}",
                )
            for axis, (size, want) in enumerate(zip(found_shape, shape, strict=True)):
                _agree(size, want, sizes, fail, ARRAYS_FILE, f"{name} (axis {axis})")

    def _match_tables(self, tables, expected, open_prefixes, sizes, fail) -> None:
        missing = sorted(set(expected) - set(tables))
        if missing:
            raise fail(f"{missing[0]}.parquet", "table", "is missing" + _more(missing))
        foreign = sorted(
            name
            for name in set(tables) - set(expected)
            if not name.startswith(tuple(open_prefixes))
        )
        if foreign:
            raise fail(
                f"{foreign[0]}.parquet",
                "table",
                "is not part of a TradeAnomalyModel" + _more(foreign),
            )
        for name, (rows_symbol, columns) in sorted(expected.items()):
            rows, found = tables[name]
            file = f"{name}.parquet"
            if [c for c, _ in found] != [c for c, _ in columns]:
                raise fail(
                    file,
                    "columns",
                    f"are {shorten([c for c, _ in found], 300)}, expected "
                    f"{[c for c, _ in columns]}",
                )
            for (column, found_type), (_, kind) in zip(found, columns, strict=True):
                ok = _TEXT_TYPE.fullmatch(found_type) if kind == "text" else found_type == kind
                if not ok:
                    raise fail(
                        file,
                        f"column {column!r}",
                        f"is of type {shorten(found_type)}, expected "
                        f"{'text' if kind == 'text' else kind}",
                    )
            _agree(rows, rows_symbol, sizes, fail, file, "rows")

    def _match_sizes(self, config, sizes, fail) -> None:
        """Sizes that must relate across arrays, tables and the config."""
        if sizes.get("pit_strata", 0) not in (0, len(OCCURRENCE_STRATA) + 1):
            raise fail(
                ARRAYS_FILE,
                "forecast.pit_tables",
                f"has {sizes['pit_strata']} strata, expected 0 or {len(OCCURRENCE_STRATA) + 1}",
            )
        # No tables is (0, 0) exactly, as written: (0, 201) is not a model's.
        if sizes.get("pit_strata") == 0 and sizes.get("pit_levels"):
            raise fail(
                ARRAYS_FILE,
                "forecast.pit_tables",
                f"has 0 strata of {sizes['pit_levels']} levels, expected shape (0, 0)",
            )
        if sizes.get("shapes") == 0 and sizes.get("shape_levels"):
            raise fail(
                ARRAYS_FILE,
                "forecast.error_shapes",
                f"has 0 strata of {sizes['shape_levels']} levels, expected shape (0, 0)",
            )
        if sizes.get("pit_strata") and sizes.get("pit_levels") != len(PIT_LEVELS):
            raise fail(
                ARRAYS_FILE,
                "forecast.pit_tables",
                f"has {sizes['pit_levels']} levels per stratum, expected {len(PIT_LEVELS)}",
            )
        if sizes.get("shapes", 0) not in (0, len(OCCURRENCE_STRATA) + 1):
            raise fail(
                ARRAYS_FILE,
                "forecast.error_shapes",
                f"has {sizes['shapes']} strata, expected 0 or {len(OCCURRENCE_STRATA) + 1}",
            )
        if sizes.get("shapes") and sizes.get("shape_levels", 0) < 2:
            raise fail(ARRAYS_FILE, "forecast.error_shapes", "has fewer than 2 levels per stratum")
        if "bins" in sizes and sizes["bins"] != sizes["edges"] + 1:
            raise fail(
                ARRAYS_FILE,
                "detector.mirror.calibration.centres",
                f"has {sizes['bins']} bins for {sizes['edges']} inner edges, expected "
                f"{sizes['edges'] + 1}",
            )
        if "trees" in sizes:
            if sizes["trees+1"] != sizes["trees"] + 1:
                raise fail(
                    ARRAYS_FILE,
                    "detector.isolation.forest.tree_offsets",
                    f"has {sizes['trees+1']} entries for {sizes['trees']} trees",
                )
            isolation = next(d for d in config["detectors"] if d["name"] == "isolation")
            wanted = isolation["params"].get("n_estimators", 200)
            if sizes["trees"] != wanted:
                raise fail(
                    ARRAYS_FILE,
                    "detector.isolation.forest.estimators_features",
                    f"holds {sizes['trees']} trees, config.detectors says n_estimators={wanted}",
                )
        forecaster = config["forecaster"]
        if "horizon" in sizes:
            wanted = forecaster["params"].get("max_horizon", 36)
            if sizes["horizon"] != wanted:
                raise fail(
                    ARRAYS_FILE,
                    "forecast.loc",
                    f"covers {sizes['horizon']} months ahead, config says max_horizon={wanted}",
                )

    # -- on the loaded arrays and tables --------------------------------------------

    def check_content(self, artifact: Artifact, where: str) -> None:
        """Values: finite where used, in range, consistent; codes and keys well formed."""
        fail = _failing(where)
        artifact = _current(artifact)
        config, arrays, tables = artifact.config, artifact.arrays, artifact.tables
        hs_level = config["model"]["hs_level"]
        threshold = float(arrays["ensemble.threshold"])
        if not (math.isfinite(threshold) and 0 <= threshold <= MAX_THRESHOLD):
            raise fail(
                ARRAYS_FILE,
                "ensemble.threshold",
                f"{threshold!r} is not a finite score in [0, {MAX_THRESHOLD:g}]",
            )
        series = tables["series"]
        _check_keys(series, "series.parquet", hs_level, fail)
        _check_values(
            series["n_nonzero"].to_numpy(), "series.parquet", "column 'n_nonzero'", fail, lo=0
        )
        for column in ("model", "reason"):
            if series[column].isna().any():
                raise fail("series.parquet", f"column {column!r}", "has missing values")
        window = artifact.metadata["training_window"]
        months = _months_between(window["start"], window["end"])
        train_months = int(arrays["forecast._train_months"])
        if train_months != months:
            raise fail(
                ARRAYS_FILE,
                "forecast._train_months",
                f"is {train_months}, but metadata.training_window {window['start']}.."
                f"{window['end']} has {months} months",
            )
        placebo = placebo_length(config["model"]["placebo_months"], months)
        if placebo < MIN_PLACEBO_MONTHS:
            raise fail(
                MANIFEST_FILE,
                "metadata.training_window",
                f"{window['start']}..{window['end']} leaves a placebo window of {placebo} "
                f"months (config.model.placebo_months {config['model']['placebo_months']}, "
                f"at most a third of the window); a model needs {MIN_PLACEBO_MONTHS}",
            )
        forecaster = config["forecaster"]["class"]
        state = {
            k.removeprefix("forecast."): v for k, v in arrays.items() if k.startswith("forecast.")
        }
        checker = _FORECASTER_VALUES.get(forecaster)
        if checker is not None:
            checker(state, series, months, fail)
        if "publication_norms" in tables:
            norms = tables["publication_norms"]
            file = "publication_norms.parquet"
            _check_codes(*_text_codes(norms["reporter"]), file, "reporter", fail)
            if norms["reporter"].duplicated().any():
                raise fail(file, "column 'reporter'", "names a reporter twice")
            for column in ("rows", "value"):
                _check_values(norms[column].to_numpy(), file, f"column {column!r}", fail, lo=0)
        for entry in config["detectors"]:
            checker = _DETECTOR_VALUES.get(entry["name"])
            if checker is not None:
                prefix = f"detector.{entry['name']}."
                checker(
                    {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)},
                    {k.removeprefix(prefix): v for k, v in tables.items() if k.startswith(prefix)},
                    hs_level,
                    fail,
                )


def _failing(where: str) -> Callable[[str, str, str], ArtifactSchemaError]:
    def fail(file: str, field: str, problem: str) -> ArtifactSchemaError:
        return ArtifactSchemaError(where, file, field, problem)

    return fail


def _more(names: list[str]) -> str:
    return f" (and {len(names) - 1} more)" if len(names) > 1 else ""


def _like(default: object) -> Validator:
    """A validator for a parameter this schema does not list, from its default's type."""
    if isinstance(default, bool):
        return _boolean
    if isinstance(default, int):
        return _integer(-MAX_COUNT, MAX_COUNT)
    if isinstance(default, float):
        return _number(-1e300, 1e300)
    return _json_scalar


def _param_schema(known: Mapping[str, Validator], defaults: Mapping[str, Any]) -> dict:
    """``known`` validators for the parameters in ``defaults``; the rest by their type."""
    return {name: known.get(name, _like(default)) for name, default in defaults.items()}


def _model_params_schema() -> dict[str, Validator]:
    from anomaly.model.trade_model import MODEL_PARAMS, TradeAnomalyModel

    signature = inspect.signature(TradeAnomalyModel.__init__).parameters
    return _param_schema(
        MODEL_PARAMS_SCHEMA, {name: signature[name].default for name in MODEL_PARAMS}
    )


def _detection_schema() -> dict[str, Validator]:
    defaults = {
        field.name: field.default
        if field.default is not dataclasses.MISSING
        else field.default_factory()  # type: ignore[misc]
        for field in dataclasses.fields(DetectionConfig)
    }
    return _param_schema(DETECTION_SCHEMA, defaults)


def _json_scalar(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int | float | str):
        return None if not isinstance(value, str) or len(value) <= 200 else "is too long"
    if isinstance(value, list) and len(value) <= 1000:
        return next((p for v in value if (p := _json_scalar(v))), None)
    return f"should be a JSON number, string, bool, null or list of them, got {_kind(value)}"


def _detector_defaults(name: str) -> dict[str, Any]:
    """A detector's parameters and their defaults (from an unfitted instance)."""
    cls = detector_class(name)
    try:
        return dict(cls(DetectionConfig()).get_params()) if cls is not None else {}
    except Exception:  # a plugin that needs arguments: its params are checked on loading
        return {}


def _exact_keys(document: Any, keys: set[str], field: str, fail) -> None:
    if not isinstance(document, Mapping):
        raise fail(MANIFEST_FILE, field, f"should be an object, got {_kind(document)}")
    missing, unknown = sorted(keys - set(document)), sorted(set(document) - keys)
    if missing:
        raise fail(MANIFEST_FILE, f"{field}.{missing[0]}", "is missing")
    if unknown:
        raise fail(MANIFEST_FILE, f"{field}.{shorten(unknown[0])}", "is not a known field")


def _params(
    params: Any,
    schema: Mapping[str, Validator],
    field: str,
    fail,
    *,
    required: bool,
    optional: frozenset[str] = frozenset(),
) -> None:
    if not isinstance(params, Mapping):
        raise fail(MANIFEST_FILE, field, f"should be an object, got {_kind(params)}")
    unknown = sorted(set(params) - set(schema))
    if unknown:
        raise fail(
            MANIFEST_FILE,
            f"{field}.{shorten(unknown[0])}",
            f"is not a parameter (known: {', '.join(schema) or 'none'})",
        )
    missing = sorted(set(schema) - set(params) - optional)
    if required and missing:
        raise fail(MANIFEST_FILE, f"{field}.{missing[0]}", "is missing")
    for name, value in params.items():
        problem = schema[name](value)
        if problem:
            raise fail(MANIFEST_FILE, f"{field}.{name}", problem)


def _agree(size: int, want: int | str, sizes: dict[str, int], fail, file: str, field: str) -> None:
    if isinstance(want, int):
        if size != want:
            raise fail(file, field, f"has size {size}, expected {want}")
        return
    known = sizes.setdefault(want, size)
    if size != known:
        what = "the trained series (metadata.n_series)" if want == "n" else repr(want)
        raise fail(file, field, f"has size {size}, but {what} elsewhere is {known}")


def _months_between(start: str, end: str) -> int:
    first, last = (int(text[:4]) * 12 + int(text[5:7]) for text in (start, end))
    return last - first + 1


def _check_values(
    values: np.ndarray,
    file: str,
    field: str,
    fail,
    *,
    lo: float = -math.inf,
    hi: float = math.inf,
    lo_open: bool = False,
    allow_nan: np.ndarray | bool = False,
) -> None:
    """Refuse non-finite values (NaN only where ``allow_nan``) and values out of range."""
    values = np.asarray(values, dtype=np.float64)
    nan = np.isnan(values) & ~np.asarray(allow_nan, dtype=bool)
    bad = nan | np.isinf(values)
    with np.errstate(invalid="ignore"):
        bad |= (values < lo) | (values > hi) | ((values == lo) if lo_open else False)
    if bad.any():
        positions = np.flatnonzero(bad.reshape(-1))
        first = float(values.reshape(-1)[positions[0]])
        bounds = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise fail(
            file,
            field,
            f"{len(positions)} value(s) are not finite numbers in {bounds} (first: {first!r} "
            f"at flat index {positions[0]})",
        )


def _check_sorted(values: np.ndarray, file: str, field: str, fail, axis: int = -1) -> None:
    if values.size and (np.diff(values, axis=axis) < 0).any():
        raise fail(file, field, "is not in ascending order")


def _check_codes(codes: np.ndarray, texts: np.ndarray, file: str, name: str, fail) -> None:
    """Country codes (a key column as :func:`_text_codes` gives it): none missing, all
    known."""
    missing = codes < 0
    if missing.any():
        raise fail(file, f"column {name!r}", f"has {int(missing.sum())} missing value(s)")
    bad = [code for code in texts if _country(code)]
    if bad:
        raise fail(
            file,
            f"column {name!r}",
            f"{len(bad)} value(s) are not known ISO alpha-3 codes: "
            f"{describe_items(map(repr, bad))}",
        )


def _text_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value's code among the column's distinct values as text (``str``), -1 where
    missing, and those texts in order of appearance: a key column's checks run on its
    few distinct values, not its millions of rows.

    Examples
    --------
    >>> codes, texts = _text_codes(pd.Series(["b", None, 1, "1", "b"], dtype=object))
    >>> codes.tolist(), texts.tolist()
    ([0, -1, 1, 1, 0], ['b', '1'])
    """
    codes, distinct = pd.factorize(column)
    as_text, texts = pd.factorize(np.array([str(value) for value in distinct], dtype=object))
    # Code -1 (missing) picks the -1 appended last.
    return np.append(as_text, -1)[codes], np.asarray(texts, dtype=object)


def _check_keys(table: pd.DataFrame, file: str, hs_level: int, fail) -> None:
    """Series keys: known country codes, known flows, HS codes of ``hs_level`` ASCII
    digits, no self-trade, no key twice."""
    coded = {name: _text_codes(table[name]) for name in SERIES_KEY_COLUMNS}
    for column in ("reporter", "partner"):
        _check_codes(*coded[column], file, column, fail)
    flows, flow_texts = coded["flow"]
    unknown = sorted(set(flow_texts) - set(FLOWS)) if (flows >= 0).all() else ["<missing>"]
    if unknown:
        raise fail(
            file,
            "column 'flow'",
            f"holds {describe_items(map(repr, unknown))}, expected one of {', '.join(FLOWS)}",
        )
    hs, hs_texts = coded["hs"]
    matched = _full_matches(pd.Series(hs_texts, dtype=object), rf"[0-9]{{{hs_level}}}")
    bad = (hs < 0) | ~matched[np.maximum(hs, 0)]
    if bad.any():
        rows = np.flatnonzero(bad)
        text = table["hs"].astype(str)
        raise fail(
            file,
            "column 'hs'",
            f"{len(rows)} value(s) are not {hs_level} ASCII digits (config.model.hs_level): "
            f"{describe_items(repr(text.iloc[r]) for r in rows[:5])}",
        )
    (reporter, reporters), (partner, partners) = coded["reporter"], coded["partner"]
    same = pd.Index(reporters).get_indexer(partners)[partner] == reporter
    if same.any():
        raise fail(
            file,
            "columns 'reporter', 'partner'",
            f"{int(same.sum())} row(s) trade with themselves (first: row {int(np.argmax(same))})",
        )
    # One integer per key (none is missing by now), repeats found by hashing it.
    key = combine_codes([coded[name][0] for name in SERIES_KEY_COLUMNS])
    duplicated = pd.Series(key, copy=False).duplicated().to_numpy()
    if duplicated.any():
        raise fail(
            file,
            "columns 'reporter', 'partner', 'flow', 'hs'",
            f"{int(duplicated.sum())} key(s) appear twice (first repeat: row "
            f"{int(np.argmax(duplicated))})",
        )


def _full_matches(text: pd.Series, pattern: str) -> np.ndarray:
    """Whether each text matches ``pattern`` in full: each distinct text is matched once
    (a model's keys repeat a few thousand HS codes over millions of series).

    Examples
    --------
    >>> _full_matches(pd.Series(["01", "1", "01"]), "[0-9]{2}").tolist()
    [True, False, True]
    """
    codes, distinct = pd.factorize(text)
    matched = pd.Series(distinct, dtype=object).str.fullmatch(pattern).to_numpy(dtype=bool)
    return matched[codes]


def _pooled_values(state, series, months, fail) -> None:
    n_nonzero = state["n_nonzero"]
    _check_values(n_nonzero, ARRAYS_FILE, "forecast.n_nonzero", fail, lo=0, hi=months)
    if not np.array_equal(n_nonzero, series["n_nonzero"].to_numpy()):
        raise fail(
            "series.parquet", "column 'n_nonzero'", "differs from forecast.n_nonzero in arrays.npz"
        )
    f = ARRAYS_FILE
    _check_values(state["damping"], f, "forecast.damping", fail, lo=0, hi=0.999999)
    half_life = float(state["half_life"])
    if not half_life > 0:  # +inf (all months weigh alike) is a valid half-life
        raise fail(f, "forecast.half_life", f"{half_life!r} is not a number of months > 0")
    _check_values(state["occurrence_strength"], f, "forecast.occurrence_strength", fail, lo=0)
    _check_values(state["p_nonzero"], f, "forecast.p_nonzero", fail, lo=0, hi=1)
    if "occurrence_months" in state:
        read_over = state["occurrence_months"]
        _check_values(read_over, f, "forecast.occurrence_months", fail, lo=0, hi=months)
        if (n_nonzero > read_over).any():
            raise fail(f, "forecast.occurrence_months", "is below forecast.n_nonzero")
    # A series without trade in the window has no level: the new-flow prior stands in.
    _check_values(
        state["level"],
        f,
        "forecast.level",
        fail,
        lo=-MAX_ABS_LOG,
        hi=MAX_ABS_LOG,
        allow_nan=n_nonzero == 0,
    )
    _check_values(state["trend"], f, "forecast.trend", fail, lo=-10, hi=10)
    _check_values(state["season"], f, "forecast.season", fail, lo=-MAX_ABS_LOG, hi=MAX_ABS_LOG)
    _check_values(
        state["log_smearing"], f, "forecast.log_smearing", fail, lo=-MAX_ABS_LOG, hi=MAX_ABS_LOG
    )
    _check_values(
        state["variance"], f, "forecast.variance", fail, lo=0, hi=MAX_VARIANCE, lo_open=True
    )
    _check_values(state["n_effective"], f, "forecast.n_effective", fail, lo=0, hi=months)
    _check_values(
        state["prior_coef"], f, "forecast.prior_coef", fail, lo=-MAX_ABS_LOG, hi=MAX_ABS_LOG
    )
    occurrence, level, variance = state["new_series"]
    _check_values(occurrence, f, "forecast.new_series[0] (occurrence)", fail, lo=0, hi=1)
    _check_values(level, f, "forecast.new_series[1] (level)", fail, lo=-MAX_ABS_LOG, hi=MAX_ABS_LOG)
    _check_values(
        variance, f, "forecast.new_series[2] (variance)", fail, lo=0, hi=MAX_VARIANCE, lo_open=True
    )
    if len(state["shock_months"]) != months:
        raise fail(
            f,
            "forecast.shock_months",
            f"covers {len(state['shock_months'])} months, the training window {months}",
        )
    _check_values(
        state["error_shapes"], f, "forecast.error_shapes", fail, lo=-MAX_ABS_LOG, hi=MAX_ABS_LOG
    )
    _check_sorted(state["error_shapes"], f, "forecast.error_shapes", fail)
    _check_values(state["pit_tables"], f, "forecast.pit_tables", fail, lo=0, hi=1 + 1e-6)
    _check_sorted(state["pit_tables"], f, "forecast.pit_tables", fail)
    if "horizon_growth" in state:
        _check_values(state["horizon_growth"], f, "forecast.horizon_growth", fail, lo=0, hi=10)


def _per_series_values(state, series, months, fail) -> None:
    _check_values(state["loc"], ARRAYS_FILE, "forecast.loc", fail, lo=-1e300, hi=1e300)
    _check_values(state["scale"], ARRAYS_FILE, "forecast.scale", fail, lo=0, hi=1e300, lo_open=True)


def _prewar_values(state, series, months, fail) -> None:
    _check_values(state["mean"], ARRAYS_FILE, "forecast.mean", fail, lo=0, hi=1e300)
    _check_values(state["errors"], ARRAYS_FILE, "forecast.errors", fail, lo=-1e300, hi=1e300)
    if state["errors"].shape[1] != months:
        raise fail(
            ARRAYS_FILE,
            "forecast.errors",
            f"covers {state['errors'].shape[1]} months, the training window {months}",
        )


def _seasonal_values(state, series, months, fail) -> None:
    _check_values(state["last_year"], ARRAYS_FILE, "forecast.last_year", fail, lo=0, hi=1e300)
    _check_values(state["errors"], ARRAYS_FILE, "forecast.errors", fail, lo=-1e300, hi=1e300)
    if state["errors"].shape[1] != months - 12:
        raise fail(
            ARRAYS_FILE,
            "forecast.errors",
            f"covers {state['errors'].shape[1]} months, "
            f"expected the training window less a year ({months - 12})",
        )


_FORECASTER_VALUES = {
    "PooledForecaster": _pooled_values,
    "ETSForecaster": _per_series_values,
    "UnobservedComponentsForecaster": _per_series_values,
    "PrewarMeanForecaster": _prewar_values,
    "SeasonalNaiveForecaster": _seasonal_values,
}


def _residual_values(arrays, tables, hs_level, fail) -> None:
    _check_stouffer(arrays["calibration"], "detector.residual.calibration", fail)


def _check_stouffer(calibration: np.ndarray, field: str, fail) -> None:
    """A :class:`~anomaly.detect.calibration.StoufferCalibration` as stored:
    ``[centre, a, b, c]``, the variance ``a + b·lag + c·lag²`` never below ``a > 0``."""
    centre, a, b, c = calibration
    _check_values(centre, ARRAYS_FILE, f"{field}[0] (centre)", fail, lo=-1e6, hi=1e6)
    _check_values(a, ARRAYS_FILE, f"{field}[1] (variance a)", fail, lo=0, hi=1e6, lo_open=True)
    _check_values(np.array([b, c]), ARRAYS_FILE, f"{field}[2:] (variance b, c)", fail, lo=0, hi=1e6)


def _mirror_values(arrays, tables, hs_level, fail) -> None:
    prefix = "detector.mirror."
    _check_keys(tables["pairs"], "detector.mirror.pairs.parquet", hs_level, fail)
    # NaN: a pair without a usable normal ratio (the pooled one stands in).
    _check_values(
        arrays["log_ratio"],
        ARRAYS_FILE,
        prefix + "log_ratio",
        fail,
        lo=-MAX_ABS_LOG,
        hi=MAX_ABS_LOG,
        allow_nan=True,
    )
    _check_values(
        arrays["pooled"], ARRAYS_FILE, prefix + "pooled", fail, lo=-MAX_ABS_LOG, hi=MAX_ABS_LOG
    )
    _check_values(arrays["calibration.edges"], ARRAYS_FILE, prefix + "calibration.edges", fail)
    _check_sorted(arrays["calibration.edges"], ARRAYS_FILE, prefix + "calibration.edges", fail)
    _check_values(
        arrays["calibration.centres"],
        ARRAYS_FILE,
        prefix + "calibration.centres",
        fail,
        lo=-1e6,
        hi=1e6,
    )
    _check_values(
        arrays["calibration.spreads"],
        ARRAYS_FILE,
        prefix + "calibration.spreads",
        fail,
        lo=0,
        hi=1e6,
        lo_open=True,
    )
    if "calibration.months" in arrays:  # NaN: no scaling by months compared
        _check_values(
            arrays["calibration.months"],
            ARRAYS_FILE,
            prefix + "calibration.months",
            fail,
            lo=0,
            hi=MAX_COUNT,
            lo_open=True,
            allow_nan=True,
        )


def _baseline_values(arrays, tables, hs_level, fail) -> None:
    prefix = "detector.baseline."
    lengths, draws = arrays["lengths"], arrays["draws"]
    _check_values(lengths, ARRAYS_FILE, prefix + "lengths", fail, lo=1, hi=1200)
    _check_sorted(lengths, ARRAYS_FILE, prefix + "lengths", fail)
    _check_values(draws, ARRAYS_FILE, prefix + "draws", fail, lo=0, hi=MAX_COUNT)
    # A distribution without draws is not read (NaN); the others are quantiles.
    drawn = arrays["quantiles"][draws > 0]
    _check_values(drawn, ARRAYS_FILE, prefix + "quantiles", fail, lo=-MAX_ABS_LOG, hi=MAX_ABS_LOG)
    _check_sorted(drawn, ARRAYS_FILE, prefix + "quantiles", fail)


def _regularity_values(arrays, tables, hs_level, fail) -> None:
    prefix = "detector.regularity."
    _check_stouffer(arrays["calibration"], prefix + "calibration", fail)
    placebo = arrays["placebo_values"]
    _check_values(placebo, ARRAYS_FILE, prefix + "placebo_values", fail, lo=0, hi=MAX_COUNT)


def _isolation_values(arrays, tables, hs_level, fail) -> None:
    prefix = "detector.isolation."
    scores = arrays["training_scores"]
    _check_values(scores, ARRAYS_FILE, prefix + "training_scores", fail, lo=0, hi=1)
    _check_sorted(scores, ARRAYS_FILE, prefix + "training_scores", fail)
    forest = {k.removeprefix(_FOREST): v for k, v in arrays.items() if k.startswith(_FOREST)}
    _check_values(forest["threshold"], ARRAYS_FILE, prefix + "forest.threshold", fail)
    _check_values(forest["offset"], ARRAYS_FILE, prefix + "forest.offset", fail, lo=-1, hi=1)
    _check_values(
        forest["n_node_samples"],
        ARRAYS_FILE,
        prefix + "forest.n_node_samples",
        fail,
        lo=1,
        hi=MAX_COUNT,
    )
    _check_values(
        forest["max_samples"], ARRAYS_FILE, prefix + "forest.max_samples", fail, lo=1, hi=MAX_COUNT
    )
    if int(forest["n_features_in"]) != len(ISOLATION_FEATURES):
        raise fail(
            ARRAYS_FILE,
            prefix + "forest.n_features_in",
            f"is {int(forest['n_features_in'])}, the detector computes "
            f"{len(ISOLATION_FEATURES)} features",
        )
    try:
        IsolationForestArrays(forest)
    except ArtifactError as error:
        raise fail(ARRAYS_FILE, prefix + "forest.*", f"the trees are malformed: {error}") from None


_DETECTOR_VALUES = {
    "residual": _residual_values,
    "mirror": _mirror_values,
    "isolation": _isolation_values,
    "baseline": _baseline_values,
    "regularity": _regularity_values,
}


def _current(artifact: Artifact) -> Artifact:
    """``artifact`` in the current layout (format 1 renamed, as it is loaded)."""
    return _components_v1(artifact) if artifact.manifest["format_version"] == 1 else artifact


#: The schema every ``TradeAnomalyModel`` artifact is checked against.
SCHEMA = register_schema(MODEL_CLASS, TradeAnomalySchema())
