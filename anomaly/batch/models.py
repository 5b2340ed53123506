"""How workers get the model: from its artifact, loaded once per worker process.

Workers never receive a pickled model. They get a :class:`ModelRef` — the artifact's
path (on one machine) or the bytes of its zip archive (on a cluster, where the
client's paths mean nothing) — and load it with :func:`anomaly.load`, which verifies
every file before use. The loaded model is kept for the next task of the same run.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from anomaly.batch.partition import pair_partitions
from anomaly.model import TradeAnomalyModel, load_model


@dataclass(frozen=True)
class ModelRef:
    """A model artifact as workers receive it.

    Attributes
    ----------
    digest : str
        Identifies the artifact (sha256 of the archive, or of the manifest).
    path : str, optional
        An artifact directory or ``.zip`` every worker can read.
    archive : bytes, optional
        The artifact packed as a zip.
    strict : bool
        Passed to :func:`anomaly.load`.
    """

    digest: str
    path: str | None = None
    archive: bytes | None = field(default=None, repr=False)
    strict: bool = False

    @classmethod
    def from_path(cls, path: str | os.PathLike, *, strict: bool = False) -> ModelRef:
        """Refer to an artifact by its path (workers on this machine)."""
        target = Path(path).resolve()
        manifest = target / "manifest.json" if target.is_dir() else target
        return cls(_sha256(manifest.read_bytes()), path=str(target), strict=strict)

    @classmethod
    def packed(cls, path: str | os.PathLike, *, strict: bool = False) -> ModelRef:
        """Carry the artifact at ``path`` as the bytes of its zip (workers anywhere)."""
        from anomaly.artifacts import pack_artifact

        target = Path(path).resolve()
        if target.is_dir():
            with tempfile.TemporaryDirectory() as folder:
                archive = pack_artifact(target, Path(folder) / "model.zip")
                data = Path(archive).read_bytes()
        else:
            data = target.read_bytes()
        return cls(_sha256(data), archive=data, strict=strict)


@dataclass
class _Loaded:
    digest: str
    model: TradeAnomalyModel
    partitions: dict[int, np.ndarray] = field(default_factory=dict)


_loaded: list[_Loaded] = []


def cached_model(model: ModelRef | TradeAnomalyModel) -> TradeAnomalyModel:
    """The model a task works with (loaded once per process, then reused)."""
    return _entry(model).model


def trained_partitions(model: ModelRef | TradeAnomalyModel, n_partitions: int) -> np.ndarray:
    """Partition of each trained series of the model (computed once per process)."""
    entry = _entry(model)
    if n_partitions not in entry.partitions:
        keys = entry.model.keys_
        entry.partitions[n_partitions] = pair_partitions(
            keys["reporter"], keys["partner"], n_partitions
        )
    return entry.partitions[n_partitions]


def forget() -> None:
    """Drop the model this process keeps (its tasks are done: the memory is wanted)."""
    _loaded.clear()


def _entry(model: ModelRef | TradeAnomalyModel) -> _Loaded:
    digest = model.digest if isinstance(model, ModelRef) else f"object-{id(model)}"
    if _loaded and _loaded[0].digest == digest:
        return _loaded[0]
    loaded = _Loaded(digest, model if isinstance(model, TradeAnomalyModel) else _load(model))
    # One model per process: a long-lived worker must not accumulate old runs' models.
    _loaded[:] = [loaded]
    return loaded


def _load(ref: ModelRef) -> TradeAnomalyModel:
    if ref.path is not None:
        return load_model(ref.path, strict=ref.strict)
    # A private directory: a predictable name in a shared temp dir could be planted.
    with tempfile.TemporaryDirectory(prefix="anomaly-model-") as folder:
        path = Path(folder) / "model.zip"
        path.write_bytes(ref.archive)
        return load_model(path, strict=ref.strict)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
