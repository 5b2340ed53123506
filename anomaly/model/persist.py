"""Save a fitted :class:`TradeAnomalyModel` as an artifact; load it back without pickle.

The model's learned state is laid out as named arrays (forecaster state, detector
calibration, isolation-forest nodes, mirror ratios) and two tables (the trained
series and the mirror pairs); :mod:`anomaly.artifacts` writes and verifies them. A
forecaster is rebuilt only from a fixed registry of classes, never from a name
imported at load time.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly.artifacts import read_artifact, write_artifact
from anomaly.detect.calibration import BinnedZCalibration, StoufferCalibration
from anomaly.detect.iforest import IsolationForestDetector
from anomaly.detect.mirror import MirrorRatios
from anomaly.errors import ArtifactError
from anomaly.forecast import (
    ETSForecaster,
    PooledForecaster,
    PrewarMeanForecaster,
    SeasonalNaiveForecaster,
    UnobservedComponentsForecaster,
)
from anomaly.model.evidence import WindowScorer
from anomaly.model.leads import Calibration
from anomaly.model.trade_model import TradeAnomalyModel
from anomaly.schema import SERIES_KEY_COLUMNS

MODEL_CLASS = "TradeAnomalyModel"
FORECASTERS = {
    cls.__name__: cls
    for cls in (
        PooledForecaster,
        ETSForecaster,
        UnobservedComponentsForecaster,
        PrewarMeanForecaster,
        SeasonalNaiveForecaster,
    )
}
MODEL_PARAMS = (
    "hs_level",
    "chp_version",
    "placebo_months",
    "false_alarm_rate",
    "n_estimators",
    "random_state",
)


def save_model(model: TradeAnomalyModel, path: str | Path) -> Path:
    """Write ``model`` as an artifact directory at ``path`` (atomically).

    Examples
    --------
    >>> save_model(model, "models/default")  # doctest: +SKIP
    """
    if not hasattr(model, "forecaster_"):
        raise ArtifactError("only a fitted model can be saved; call fit() first")
    forecaster = model.forecaster_
    calibration = model.calibration_
    arrays = {f"forecast.{k}": np.asarray(v) for k, v in forecaster.fitted_state().items()}
    arrays |= {
        "calibration.residual": np.array(
            [calibration.residual.centre, *calibration.residual.variance]
        ),
        "calibration.mirror.edges": calibration.mirror.edges,
        "calibration.mirror.centres": calibration.mirror.centres,
        "calibration.mirror.spreads": calibration.mirror.spreads,
        "calibration.threshold": np.array(calibration.threshold),
        "calibration.iforest_training_scores": calibration.iforest.training_scores_,
        "calibration.iforest_offset": np.array(calibration.iforest.offset_),
        "mirror.log_ratio": model.mirror_ratios_.log_ratio,
        "mirror.pooled": np.array(model.mirror_ratios_.pooled),
    }
    arrays |= {f"iforest.{k}": v for k, v in calibration.iforest.forest_arrays_.items()}
    series = pd.concat(
        [model.keys_.reset_index(drop=True), forecaster.series_info_.reset_index(drop=True)], axis=1
    )
    config = {
        "model": {name: getattr(model, name) for name in MODEL_PARAMS},
        "forecaster": {
            "class": type(forecaster).__name__,
            "params": _json_params(forecaster.get_params()),
        },
        "iforest": _json_params(calibration.iforest.get_params()),
    }
    metadata = {
        "training_window": {"start": model.train_window_[0], "end": model.train_window_[1]},
        "data_fingerprint": model.data_fingerprint_,
        "n_series": len(model.keys_),
        "currency": model.currency_,
    }
    return write_artifact(
        path,
        model_class=MODEL_CLASS,
        config=config,
        arrays=arrays,
        tables={"series": series, "mirror_pairs": _string_keys(model.mirror_ratios_.keys)},
        metadata=metadata,
    )


def load_model(path: str | Path, *, strict: bool = True) -> TradeAnomalyModel:
    """Load a model artifact (directory or ``.zip``), verifying it before use.

    Parameters
    ----------
    path : str or Path
    strict : bool
        Refuse an artifact written with other major versions of numpy, pandas or
        scikit-learn; ``False`` only warns about that (nothing else is relaxed).

    Examples
    --------
    >>> model = load_model("models/default")  # doctest: +SKIP
    """
    artifact = read_artifact(path, strict=strict)
    if artifact.model_class != MODEL_CLASS:
        raise ArtifactError(f"{path}: holds a {artifact.model_class!r}, not a {MODEL_CLASS}")
    config, arrays = artifact.config, artifact.arrays
    name = config["forecaster"]["class"]
    if name not in FORECASTERS:
        raise ArtifactError(
            f"{path}: unknown forecaster class {name!r}; known: {sorted(FORECASTERS)}"
        )
    forecaster = FORECASTERS[name](**_python_params(config["forecaster"]["params"]))
    window = artifact.metadata["training_window"]
    series = artifact.tables["series"]
    keys = series[list(SERIES_KEY_COLUMNS)].copy()
    state = {k.removeprefix("forecast."): v for k, v in arrays.items() if k.startswith("forecast.")}
    forecaster.restore(state, series.drop(columns=list(SERIES_KEY_COLUMNS)), window["end"])

    iforest = IsolationForestDetector(**_python_params(config["iforest"]))
    iforest.restore(
        {k.removeprefix("iforest."): v for k, v in arrays.items() if k.startswith("iforest.")},
        arrays["calibration.iforest_training_scores"],
        float(arrays["calibration.iforest_offset"]),
    )
    residual = arrays["calibration.residual"]
    calibration = Calibration(
        residual=_stouffer_calibration(residual),
        mirror=BinnedZCalibration(
            arrays["calibration.mirror.edges"],
            arrays["calibration.mirror.centres"],
            arrays["calibration.mirror.spreads"],
        ),
        iforest=iforest,
        threshold=float(arrays["calibration.threshold"]),
    )

    model = TradeAnomalyModel(forecaster.clone(), **_python_params(config["model"]))
    ratios = MirrorRatios(
        artifact.tables["mirror_pairs"], arrays["mirror.log_ratio"], float(arrays["mirror.pooled"])
    )
    model.scorer_ = WindowScorer(forecaster, keys, ratios, model._controlled_codes())
    model.calibration_ = calibration
    model.currency_ = artifact.metadata.get("currency")
    model.train_window_ = (window["start"], window["end"])
    model.data_fingerprint_ = artifact.metadata["data_fingerprint"]
    return model


def _stouffer_calibration(numbers: np.ndarray) -> StoufferCalibration:
    """The residual calibration: ``[centre, a, b, c]``; artifacts of anomaly 0.1.0
    before the window-length model stored ``[centre, spread]`` (a constant spread)."""
    if len(numbers) == 2:
        centre, spread = (float(x) for x in numbers)
        return StoufferCalibration(centre, (spread**2, 0.0, 0.0))
    centre, a, b, c = (float(x) for x in numbers)
    return StoufferCalibration(centre, (a, b, c))


def _string_keys(keys: pd.DataFrame) -> pd.DataFrame:
    """Key columns typed as strings even when empty (an empty object column has no type)."""
    return keys[list(SERIES_KEY_COLUMNS)].astype("string").reset_index(drop=True)


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
