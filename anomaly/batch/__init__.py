"""Batch scoring at scale: chunked, parallel, restartable; on one machine or a Dask cluster.

:func:`score_batch` gives the outputs of ``model.score(...)`` and ``Scores.write``
without holding the input or the series-month detail in memory:

1. **scan** (:mod:`.sources`, :mod:`.scan`): the inputs are read in batches (canonical
   Parquet natively, anything else through :func:`anomaly.read_flows`), checked, and
   their rows split by partition — a stable hash of each series' unordered country
   pair (:mod:`.partition`), so an export meets its mirror import;
2. **pass 1** (:mod:`.tasks`): each partition becomes a panel and computes its share
   of the scoring context (who published when, general demand); the shares are
   merged, which gives exactly the context of the whole input;
3. **pass 2**: each partition's evidence with the merged context;
4. the summaries are put back in the in-memory order, ranked by the model, and the
   outputs written atomically (:mod:`.assemble`, :mod:`.history`).

Training reads canonical Parquet through the same scan: :func:`read_panel`
(:mod:`.panel_reader`) checks and pivots it partition by partition into the panel
``anomaly.build_panel(anomaly.read_flows(files))`` would give, without holding the
input table at once; or leaves the partitions in the work directory, and
:func:`fit_partitioned` (:mod:`.train`, :mod:`.train_rows`) fits the model over them
in the same two-pass shape, without holding the training matrix.

Tasks run in this process, in joblib processes or on a Dask cluster (:mod:`.engines`);
the model reaches workers as its artifact (:mod:`.models`); every step leaves its
result in a work directory (:mod:`.workdir`, :mod:`.store`), so a killed run resumes.

Examples
--------
>>> from anomaly.batch import score_batch
>>> result = score_batch("models/default", "flows/", start="2022-01", out_dir="out",
...                      jobs=2)  # doctest: +SKIP
"""

import importlib
from typing import Any

from anomaly.batch.engines import ENGINES
from anomaly.batch.errors import BatchError
from anomaly.batch.panel_reader import native_inputs, read_panel
from anomaly.batch.partition import pair_partition, pair_partitions

#: Imported when first asked for: scoring and training load the model's code
#: (scikit-learn...), which a worker of the scan or of a training read never needs
#: (two seconds of imports in every worker process).
_LAZY = {"BatchResult": "runner", "score_batch": "runner", "fit_partitioned": "train"}

__all__ = [
    "ENGINES",
    "BatchError",
    "BatchResult",
    "fit_partitioned",
    "native_inputs",
    "pair_partition",
    "pair_partitions",
    "read_panel",
    "score_batch",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"anomaly.batch.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
