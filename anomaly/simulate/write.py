"""Write a simulated world to files, each atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from anomaly.simulate.api import SimulatedWorld

__all__ = ["write_world"]


def write_world(world: SimulatedWorld, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``flows.parquet``, ``flows.csv``, ``labels.csv`` and ``config.json``.

    Periods are written as ``YYYY-MM`` text in every file, so that any tool reads them
    alike; the currency (EUR) is in ``config.json`` and in the Parquet metadata. Each
    file is written to a temporary name in ``out_dir`` and renamed into place, so a
    reader never sees a half-written file and an interrupted run leaves the previous
    files intact.

    Parameters
    ----------
    world : SimulatedWorld
        The world to write.
    out_dir : path-like
        Directory, created if missing.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from anomaly.simulate import simulate_world
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_world(simulate_world(300, seed=1), tmp)
    ...     sorted(p.name for p in out.iterdir())
    ['config.json', 'flows.csv', 'flows.parquet', 'labels.csv']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flows = world.flows.assign(period=world.flows["period"].dt.strftime("%Y-%m"))
    labels = world.labels.assign(onset=world.labels["onset"].dt.strftime("%Y-%m"))
    config = {
        "currency": world.flows.attrs.get("currency", "EUR"),
        **dataclasses.asdict(world.config),
    }

    _write_atomic(out / "flows.parquet", lambda path: flows.to_parquet(path, index=False))
    _write_atomic(out / "flows.csv", lambda path: flows.to_csv(path, index=False))
    _write_atomic(out / "labels.csv", lambda path: labels.to_csv(path, index=False))
    _write_atomic(
        out / "config.json", lambda path: path.write_text(json.dumps(config, indent=2) + "\n")
    )
    return out


def _write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
