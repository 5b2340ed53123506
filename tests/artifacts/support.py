"""Inputs and forgery helpers shared by the artifact tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly.artifacts.integrity import file_record

CREATED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def model_state(seed: int = 0) -> dict[str, Any]:
    """Keyword arguments for ``write_artifact``: arrays of each dtype, str/int/float tables."""
    rng = np.random.default_rng(seed)
    return {
        "model_class": "StorageTest",  # no content schema: the storage layer alone
        "config": {"alpha": 0.01, "detectors": ["residual", "mirror"], "seasonal": True},
        "arrays": {
            "level": rng.normal(size=(4, 3)).astype(np.float32),
            "sigma": rng.gamma(2.0, size=4),
            "n_obs": np.array([84, 84, 60, 12], dtype=np.int32),
            "node_index": np.arange(6, dtype=np.int64).reshape(2, 3),
            "intermittent": np.array([False, False, True, True]),
            "offset": np.asarray(-0.5),
        },
        "tables": {
            "series": pd.DataFrame(
                {
                    "reporter": ["DEU", "DEU", "ARM", "KGZ"],
                    "partner": ["ARM", "KGZ", "RUS", "RUS"],
                    "flow": ["export", "export", "re-export", "re-export"],
                    "hs": ["854231", "880730", "854231", "0101"],
                    "n_months": [84, 84, 60, 12],
                    "share_zero": [0.0, 0.25, 0.5, np.nan],
                }
            ),
        },
        "metadata": {
            "training_window": {"start": "2015-01", "end": "2021-12"},
            "data_fingerprint": "sha256:" + "ab" * 32,
            "n_series": 4,
        },
    }


def edit_manifest(directory: Path, change: Callable[[dict], object]) -> None:
    """Apply ``change`` to the parsed manifest and write it back (the manifest is unhashed)."""
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def relist(directory: Path, name: str) -> None:
    """Record a changed file's new size and sha256, as a forger covering tracks would."""
    edit_manifest(directory, lambda m: m["files"].update({name: file_record(directory / name)}))
