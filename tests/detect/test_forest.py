"""IsolationForestArrays reproduces scikit-learn's scores exactly, without pickle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from anomaly.artifacts import read_artifact, write_artifact
from anomaly.detect.forest import (
    ISOLATION_FOREST_ARRAYS,
    IsolationForestArrays,
    average_path_length,
    export_isolation_forest,
)
from anomaly.errors import ArtifactIntegrityError, NotFittedError


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    train = rng.normal(size=(300, 6))
    train[:6] *= 8  # a few outliers
    test = rng.normal(scale=2.0, size=(500, 6))
    test[0, 1], test[1, 2], test[2] = np.nan, np.inf, -np.inf
    with_gaps = train.copy()
    with_gaps[rng.random(train.shape) < 0.1] = np.nan
    return {"train": train, "test": test, "with_gaps": with_gaps}


SETTINGS = [
    {},
    {"contamination": 0.1},
    {"max_features": 0.5},
    {"max_features": 2, "contamination": 0.05},
    {"bootstrap": True},
    {"bootstrap": True, "max_features": 0.7, "max_samples": 64, "contamination": 0.2},
    {"max_samples": 0.5, "n_estimators": 7},
    {"max_samples": 2},
    {"max_samples": 1},
]


def _assert_same_scores(model: IsolationForest, scorer: IsolationForestArrays, X) -> None:
    np.testing.assert_allclose(scorer.score_samples(X), model.score_samples(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        scorer.decision_function(X), model.decision_function(X), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("settings", SETTINGS, ids=[str(s) or "defaults" for s in SETTINGS])
@pytest.mark.parametrize("train_on", ["train", "with_gaps"])
def test_scores_match_scikit_learn(data, settings, train_on):
    model = IsolationForest(n_estimators=40, random_state=0)
    model.set_params(**settings).fit(data[train_on])
    scorer = IsolationForestArrays(export_isolation_forest(model))

    for X in data.values():
        _assert_same_scores(model, scorer, X)


def test_scores_match_after_an_artifact_round_trip(data, tmp_path):
    model = IsolationForest(n_estimators=25, contamination=0.1, random_state=3)
    model.fit(data["train"])
    forest = export_isolation_forest(model)
    window = {"start": "2015-01", "end": "2021-12"}
    loaded = read_artifact(
        write_artifact(
            tmp_path / "m",
            model_class="TradeAnomalyModel",
            config={},
            arrays={f"iforest.{name}": array for name, array in forest.items()},
            tables={},
            metadata={"training_window": window, "data_fingerprint": "0", "n_series": 0},
        )
    )

    stored = {name.removeprefix("iforest."): array for name, array in loaded.arrays.items()}
    _assert_same_scores(model, IsolationForestArrays(stored), data["test"])


def test_single_training_sample_scores_like_scikit_learn(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_samples > n_samples
        model = IsolationForest(n_estimators=5, random_state=0).fit(data["train"][:1])
    _assert_same_scores(model, IsolationForestArrays(export_isolation_forest(model)), data["test"])


def test_large_inputs_are_scored_in_chunks(data):
    model = IsolationForest(n_estimators=30, random_state=0).fit(data["train"])
    big = np.random.default_rng(0).normal(size=(5000, 6))
    _assert_same_scores(model, IsolationForestArrays(export_isolation_forest(model)), big)


def test_export_lists_documented_arrays_with_portable_dtypes(data):
    model = IsolationForest(n_estimators=4, max_features=0.5, random_state=0).fit(data["train"])
    arrays = export_isolation_forest(model)

    assert tuple(arrays) == ISOLATION_FOREST_ARRAYS
    assert arrays["estimators_features"].shape == (4, 3)
    assert arrays["tree_offsets"][-1] == len(arrays["threshold"])
    assert {a.dtype.kind for a in arrays.values()} <= {"b", "i", "f"}


def test_average_path_length_matches_scikit_learn():
    from sklearn.ensemble._iforest import _average_path_length

    n = np.array([0, 1, 2, 3, 10, 256, 10_000])
    np.testing.assert_array_equal(average_path_length(n), _average_path_length(n))


def test_export_refuses_an_unfitted_forest():
    with pytest.raises(NotFittedError, match="not fitted"):
        export_isolation_forest(IsolationForest())


def test_scoring_refuses_the_wrong_number_of_columns(data):
    model = IsolationForest(n_estimators=3, random_state=0).fit(data["train"])
    scorer = IsolationForestArrays(export_isolation_forest(model))

    with pytest.raises(ValueError, match=r"shape \(n_samples, 6\)"):
        scorer.score_samples(data["train"][:, :5])


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda a: a.pop("threshold"), "missing: threshold"),
        (lambda a: a["children_left"].__setitem__(0, 0), "children do not form trees"),
        (lambda a: a["children_right"].__setitem__(0, 10**9), "children do not form trees"),
        (lambda a: a.update(tree_offsets=a["tree_offsets"][:-1]), "tree_offsets"),
        (lambda a: a.update(feature=a["feature"][:-1]), "differ in length"),
        (lambda a: a["estimators_features"].__setitem__((0, 0), 99), "outside the data"),
        (lambda a: a["feature"].__setitem__(0, 50), "split features"),
    ],
)
def test_malformed_arrays_are_refused(data, corrupt, message):
    model = IsolationForest(n_estimators=3, random_state=0).fit(data["train"])
    arrays = export_isolation_forest(model)
    corrupt(arrays)

    with pytest.raises(ArtifactIntegrityError, match=message):
        IsolationForestArrays(arrays)
