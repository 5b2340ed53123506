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

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly.artifacts import Artifact, read_artifact, write_artifact
from anomaly.detect import (
    DETECTORS,
    DetectionConfig,
    Detector,
    DetectorState,
    Ensemble,
    detector_class,
)
from anomaly.errors import ArtifactError
from anomaly.forecast import FORECASTERS, Forecaster
from anomaly.schema import SERIES_KEY_COLUMNS

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
    metadata : dict
        ``training_window``, ``data_fingerprint``, ``n_series``, ``currency``.
    """

    params: dict[str, Any]
    forecaster: Forecaster
    keys: pd.DataFrame
    ensemble: Ensemble
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
        )
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


def read_components(path: str | Path, *, strict: bool = True) -> Components:
    """Read an artifact (directory or ``.zip``), verified before use, as components."""
    artifact = read_artifact(path, strict=strict)
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
    return Components(model, forecaster, keys, ensemble, dict(artifact.metadata))


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

    Format 1 stored the four detectors of anomaly 0.1.0 under fixed names; the
    residual calibration of the earliest models was ``[centre, spread]``.
    """
    arrays, config = dict(artifact.arrays), artifact.config
    residual = arrays.pop("calibration.residual")
    if len(residual) == 2:
        centre, spread = (float(x) for x in residual)
        residual = np.array([centre, spread**2, 0.0, 0.0])
    renamed = {
        "detector.residual.calibration": residual,
        "detector.mirror.log_ratio": arrays.pop("mirror.log_ratio"),
        "detector.mirror.pooled": arrays.pop("mirror.pooled"),
        "detector.mirror.calibration.edges": arrays.pop("calibration.mirror.edges"),
        "detector.mirror.calibration.centres": arrays.pop("calibration.mirror.centres"),
        "detector.mirror.calibration.spreads": arrays.pop("calibration.mirror.spreads"),
        "detector.isolation.training_scores": arrays.pop("calibration.iforest_training_scores"),
        "ensemble.threshold": arrays.pop("calibration.threshold"),
    }
    arrays.pop("calibration.iforest_offset", None)  # the old predict() threshold: unused
    for name in [k for k in arrays if k.startswith("iforest.")]:
        renamed["detector.isolation.forest." + name.removeprefix("iforest.")] = arrays.pop(name)
    tables = dict(artifact.tables)
    tables["detector.mirror.pairs"] = tables.pop("mirror_pairs")
    forest = {k: v for k, v in config["iforest"].items() if k in ("n_estimators", "random_state")}
    forest["max_samples"] = config["iforest"].get("max_samples", "auto")
    upgraded = {
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
    return Artifact(artifact.manifest, upgraded, artifact.metadata, arrays | renamed, tables)


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
