"""An isolation forest as plain arrays, scored in numpy without scikit-learn objects.

Pickling a fitted ``IsolationForest`` would make loading a model able to run code.
Instead the forest's trees are exported as node arrays (stored in ``arrays.npz``) and
:class:`IsolationForestArrays` replays ``sklearn.ensemble.IsolationForest`` scoring on
them: the same float32 input, the same ``<=`` split rule and missing-value routing, the
same path-length correction and the same tree-by-tree summation order, so the scores
equal scikit-learn's exactly, not just approximately.

Exported arrays (all trees' nodes concatenated; ``tree_offsets[t]:tree_offsets[t + 1]``
are tree ``t``'s nodes, child and feature indices are local to the tree):

============================  ========  ===============================================
name                          dtype     meaning
============================  ========  ===============================================
``tree_offsets``              int64     ``(n_trees + 1,)`` start of each tree's nodes
``children_left``             int64     left child, ``-1`` for a leaf
``children_right``            int64     right child, ``-1`` for a leaf
``feature``                   int64     split column in the tree's features, ``-2`` leaf
``threshold``                 float64   go left if ``x <= threshold``
``missing_go_to_left``        bool      where a NaN goes
``n_node_samples``            int64     training samples reaching the node
``estimators_features``       int64     ``(n_trees, max_features)`` each tree's columns
``n_features_in``             int64     0-d, columns of the training data
``max_samples``               int64     0-d, ``max_samples_``: samples per tree
``offset``                    float64   0-d, ``offset_``: decision threshold
============================  ========  ===============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from anomaly.errors import ArtifactIntegrityError, NotFittedError

if TYPE_CHECKING:  # scoring needs no scikit-learn (it costs every process 0.9 s to import)
    from sklearn.ensemble import IsolationForest

__all__ = ["ISOLATION_FOREST_ARRAYS", "IsolationForestArrays", "export_isolation_forest"]

_LEAF = -1
#: (sample, tree) pairs descended at once when scoring: bounds memory, and at this size
#: the gathers stay in cache (measured fastest among 2**14 to 2**20).
_CHUNK_NODES = 1 << 16
_NODE_ARRAYS = (
    "children_left",
    "children_right",
    "feature",
    "threshold",
    "missing_go_to_left",
    "n_node_samples",
)
#: Names of the arrays :func:`export_isolation_forest` returns.
ISOLATION_FOREST_ARRAYS: tuple[str, ...] = (
    "tree_offsets",
    *_NODE_ARRAYS,
    "estimators_features",
    "n_features_in",
    "max_samples",
    "offset",
)


def export_isolation_forest(model: IsolationForest) -> dict[str, np.ndarray]:
    """Export a fitted isolation forest as named numpy arrays.

    Parameters
    ----------
    model : sklearn.ensemble.IsolationForest
        A fitted forest (dense or sparse training data alike).

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays listed in this module's docstring, ready for
        :func:`~anomaly.artifacts.write_artifact` (prefix the names to store several
        forests in one artifact).

    Examples
    --------
    >>> from sklearn.ensemble import IsolationForest
    >>> rng = np.random.default_rng(0)
    >>> forest = IsolationForest(n_estimators=5, random_state=0).fit(rng.normal(size=(50, 2)))
    >>> arrays = export_isolation_forest(forest)
    >>> arrays["tree_offsets"].shape
    (6,)
    """
    if not hasattr(model, "estimators_"):
        raise NotFittedError("the IsolationForest is not fitted; call fit before exporting it")
    trees = [estimator.tree_ for estimator in model.estimators_]
    sizes = [tree.node_count for tree in trees]
    return {
        "tree_offsets": np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        "children_left": np.concatenate([t.children_left for t in trees]).astype(np.int64),
        "children_right": np.concatenate([t.children_right for t in trees]).astype(np.int64),
        "feature": np.concatenate([t.feature for t in trees]).astype(np.int64),
        "threshold": np.concatenate([t.threshold for t in trees]).astype(np.float64),
        "missing_go_to_left": np.concatenate([t.missing_go_to_left for t in trees]).astype(bool),
        "n_node_samples": np.concatenate([t.n_node_samples for t in trees]).astype(np.int64),
        "estimators_features": np.asarray(model.estimators_features_, dtype=np.int64),
        "n_features_in": np.asarray(model.n_features_in_, dtype=np.int64),
        "max_samples": np.asarray(model.max_samples_, dtype=np.int64),
        "offset": np.asarray(model.offset_, dtype=np.float64),
    }


def average_path_length(n_samples: np.ndarray) -> np.ndarray:
    """Expected path length of an unsuccessful search in a binary tree of ``n`` samples.

    The same expression, term for term, as scikit-learn's ``_average_path_length``, so
    the floating-point result is identical.

    Examples
    --------
    >>> average_path_length(np.array([1, 2, 256])).round(4)
    array([ 0.    ,  1.    , 10.2448])
    """
    n_samples = np.asarray(n_samples)
    result = np.zeros(n_samples.shape)
    small = n_samples <= 1
    two = n_samples == 2
    large = ~(small | two)
    result[two] = 1.0
    result[large] = (
        2.0 * (np.log(n_samples[large] - 1.0) + np.euler_gamma)
        - 2.0 * (n_samples[large] - 1.0) / n_samples[large]
    )
    return result


class IsolationForestArrays:
    """Score samples with an isolation forest stored as arrays, in pure numpy.

    Reproduces ``IsolationForest.score_samples`` and ``decision_function`` exactly.
    As in scikit-learn, *lower* scores are more abnormal; negate for the package-wide
    "higher = more anomalous" convention.

    Parameters
    ----------
    arrays : mapping of str to numpy.ndarray
        The output of :func:`export_isolation_forest`, e.g. as read back from an
        artifact. The tree structure is validated, so malformed arrays raise rather
        than loop or index out of bounds.

    Raises
    ------
    ArtifactIntegrityError
        Missing arrays or an inconsistent tree structure.

    Examples
    --------
    >>> from sklearn.ensemble import IsolationForest
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> forest = IsolationForest(n_estimators=10, random_state=0).fit(X)
    >>> scorer = IsolationForestArrays(export_isolation_forest(forest))
    >>> bool(np.array_equal(scorer.score_samples(X), forest.score_samples(X)))
    True
    """

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        missing = [name for name in ISOLATION_FOREST_ARRAYS if name not in arrays]
        if missing:
            raise ArtifactIntegrityError(f"isolation forest arrays missing: {', '.join(missing)}")
        nodes = {name: np.asarray(arrays[name]) for name in _NODE_ARRAYS}
        offsets = np.asarray(arrays["tree_offsets"], dtype=np.int64)
        features = np.asarray(arrays["estimators_features"], dtype=np.int64)
        self.n_features_in = int(arrays["n_features_in"])
        self.max_samples = int(arrays["max_samples"])
        self.offset = float(arrays["offset"])
        _check_structure(nodes, offsets, features, self.n_features_in)
        self.n_estimators = len(offsets) - 1

        sizes = np.diff(offsets)
        base = np.repeat(offsets[:-1], sizes)
        left = nodes["children_left"].astype(np.int64)
        right = nodes["children_right"].astype(np.int64)
        internal = left != _LEAF
        itself = np.arange(len(left))
        # Global node indices; a leaf leads to itself, so every sample can take the
        # same number of steps and simply stays put once it reaches its leaf.
        global_left = np.where(internal, base + left, itself)
        global_right = np.where(internal, base + right, itself)
        # Interleaved so that one gather at 2 * node + go_right picks the next node.
        self._children = np.stack([global_left, global_right], axis=1).ravel()
        self._roots = offsets[:-1]
        self._missing_left = nodes["missing_go_to_left"].astype(bool)
        self._threshold = nodes["threshold"].astype(np.float64)
        feature = np.where(internal, nodes["feature"], 0).astype(np.int64)
        # scikit-learn indexes X by a tree's feature subset only when fewer features
        # than all were drawn (its scoring test), whatever bootstrap_features says.
        if features.shape[1] != self.n_features_in:
            feature = features[np.repeat(np.arange(self.n_estimators), sizes), feature]
        self._column = feature
        depth = _node_depths(global_left, global_right, internal)
        self._steps = int(depth.max()) - 1
        # What a sample ending in each node adds to its summed path length, computed
        # as scikit-learn does: depth + average_path_length(n_node_samples) - 1.
        samples = nodes["n_node_samples"].astype(np.int64)
        self._leaf_value = depth + average_path_length(samples) - 1.0

    def _as_samples(self, X: ArrayLike) -> np.ndarray:
        # scikit-learn casts to float32 before comparing with the float64 thresholds.
        samples = np.asarray(X, dtype=np.float32)
        if samples.ndim != 2 or samples.shape[1] != self.n_features_in:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features_in}), got {samples.shape}"
            )
        return samples

    def _leaves(self, samples: np.ndarray) -> np.ndarray:
        """Leaf reached by each sample in each tree, shape ``(n_samples, n_estimators)``."""
        node = np.broadcast_to(self._roots, (len(samples), self.n_estimators)).copy()
        # Flat gathers (np.take) are several times faster than 2-D fancy indexing.
        flat = samples.ravel()
        row_start = (np.arange(len(samples)) * self.n_features_in)[:, None]
        for _ in range(self._steps):
            value = np.take(flat, row_start + np.take(self._column, node))
            go_right = ~(value <= np.take(self._threshold, node))
            missing = np.isnan(value)
            if missing.any():
                go_right[missing] = ~self._missing_left[node[missing]]
            node = np.take(self._children, 2 * node + go_right)
        return node

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Opposite of the anomaly score of the original paper: lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            Dense samples; NaN is routed as in training.

        Returns
        -------
        numpy.ndarray of shape (n_samples,), float64
            Equal to ``IsolationForest.score_samples(X)``.
        """
        samples = self._as_samples(X)
        path_lengths = np.zeros(len(samples))
        chunk = max(1, _CHUNK_NODES // self.n_estimators)

        def descend(start: int) -> None:
            values = self._leaf_value[self._leaves(samples[start : start + chunk])]
            # Summed tree by tree, in scikit-learn's order, so rounding is identical too:
            # a running sum along each row adds the trees one by one (from the first
            # tree's value, as adding it to zero gives: path lengths are not negative).
            path_lengths[start : start + chunk] = np.cumsum(values, axis=1)[:, -1]

        starts = range(0, len(samples), chunk)
        # Chunks are independent and numpy's gathers release the GIL: threads share them.
        with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, len(starts)) or 1) as pool:
            for _ in pool.map(descend, starts):
                pass
        denominator = self.n_estimators * average_path_length(np.array([self.max_samples]))[0]
        # A forest trained on one sample has zero depths and denominator; scikit-learn
        # sets their ratio to 1 (a score of -0.5).
        ratio = path_lengths / denominator if denominator != 0 else np.ones_like(path_lengths)
        return -(2.0**-ratio)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """``score_samples(X) - offset``: negative for outliers, as in scikit-learn.

        Examples
        --------
        >>> from sklearn.ensemble import IsolationForest
        >>> rng = np.random.default_rng(1)
        >>> forest = IsolationForest(n_estimators=5, contamination=0.1, random_state=0)
        >>> X = rng.normal(size=(60, 2))
        >>> scorer = IsolationForestArrays(export_isolation_forest(forest.fit(X)))
        >>> bool(np.array_equal(scorer.decision_function(X), forest.decision_function(X)))
        True
        """
        return self.score_samples(X) - self.offset


def _check_structure(
    nodes: Mapping[str, np.ndarray], offsets: np.ndarray, features: np.ndarray, n_features: int
) -> None:
    """Refuse arrays that do not describe a forest, before they are used as indices."""

    def refuse(problem: str) -> ArtifactIntegrityError:
        return ArtifactIntegrityError(f"isolation forest arrays: {problem}")

    n_nodes = len(nodes["children_left"])
    if offsets.ndim != 1 or len(offsets) < 2 or offsets[0] != 0 or offsets[-1] != n_nodes:
        raise refuse("tree_offsets do not partition the nodes")
    sizes = np.diff(offsets)
    if np.any(sizes < 1):
        raise refuse("tree_offsets give a tree without nodes")
    if any(array.shape != (n_nodes,) for array in nodes.values()):
        raise refuse("node arrays differ in length")
    if features.ndim != 2 or features.shape[0] != len(sizes):
        raise refuse("estimators_features is not one row per tree")
    if np.any((features < 0) | (features >= n_features)):
        raise refuse("estimators_features names columns outside the data")
    local = np.arange(n_nodes) - np.repeat(offsets[:-1], sizes)
    size = np.repeat(sizes, sizes)
    internal = nodes["children_left"] != _LEAF
    # Children after their parent (as scikit-learn builds trees) guarantees that every
    # descent ends at a leaf of the same tree: no cycles, no stray indices.
    for child in (nodes["children_left"], nodes["children_right"]):
        if np.any((child != _LEAF) != internal) or np.any(
            internal & ((child <= local) | (child >= size))
        ):
            raise refuse("children do not form trees")
    split = nodes["feature"][internal]
    if np.any((split < 0) | (split >= features.shape[1])):
        raise refuse("split features outside the trees' feature subsets")


def _node_depths(left: np.ndarray, right: np.ndarray, internal: np.ndarray) -> np.ndarray:
    """Depth of every node, roots being 1, as ``sklearn.tree.Tree.compute_node_depths``."""
    parent = np.full(len(left), -1, dtype=np.int64)
    parents = np.flatnonzero(internal)
    parent[left[parents]] = parents
    parent[right[parents]] = parents
    has_parent = parent >= 0
    depth = np.ones(len(left), dtype=np.int64)
    # One level per pass; validated trees are acyclic, so this stops at the deepest leaf.
    while True:
        updated = np.ones_like(depth)
        updated[has_parent] = depth[parent[has_parent]] + 1
        if np.array_equal(updated, depth):
            return depth
        depth = updated
