"""The committed default model is what its documented command regenerates.

``models/README.md`` gives the command; retraining here must reproduce every array
and table of ``models/default`` (floating-point arrays to 1e-9 relative, since other
library builds may round the last bit differently), and its configuration and
training metadata exactly.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import anomaly
import anomaly.demo
from anomaly.artifacts import read_artifact
from anomaly.artifacts.manifest import dependency_drift
from anomaly.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "models" / "default"
DATA = ROOT / "anomaly" / "demo" / "data" / "eurostat_chp_exports_2020_2022.csv.gz"


def test_documented_command_regenerates_the_committed_default_model(tmp_path):
    command = ["train", "--data", str(DATA), "--train-start", "2020-01", "--train-end"]
    assert main([*command, "2021-12", "--out", str(tmp_path / "default")]) == 0
    committed = read_artifact(COMMITTED, strict=False)
    fresh = read_artifact(tmp_path / "default", strict=False)

    assert fresh.config == committed.config
    assert fresh.metadata == committed.metadata
    assert sorted(fresh.arrays) == sorted(committed.arrays)
    for name, array in committed.arrays.items():
        if np.issubdtype(array.dtype, np.floating):
            np.testing.assert_allclose(fresh.arrays[name], array, rtol=1e-9, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(fresh.arrays[name], array, err_msg=name)
    for name, table in committed.tables.items():
        pd.testing.assert_frame_equal(fresh.tables[name], table, check_dtype=False)


def test_committed_default_model_loads_and_scores_the_demo_data():
    model = anomaly.load(COMMITTED, strict=False)
    leads = model.score(anomaly.demo.demo_flows(), "2022-01", "2022-11").leads
    assert leads["alert"].any()
    assert leads.loc[leads["alert"], "partner"].isin(["KAZ", "ARM", "KGZ"]).mean() > 0.5


def test_committed_default_model_loads_strictly_with_the_libraries_it_was_written_with():
    """What a fresh install (CI's) resolves is what ``models/default`` records, so there
    it loads with ``strict=True``; elsewhere it loads with one warning naming the drift."""
    drift = dependency_drift(json.loads((COMMITTED / "manifest.json").read_text()))
    if not drift:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            anomaly.load(COMMITTED, strict=True)
        return
    with pytest.warns(UserWarning, match="different major version") as caught:
        anomaly.load(COMMITTED)
    assert all(d in str(caught[0].message) for d in drift)
