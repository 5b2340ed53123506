"""Write a simulated world to files, each atomically.

The layout keeps the planted truth apart from the data, so that the directory itself
can be given to ``--data`` (a directory stands for its ``.csv``/``.parquet`` files,
not its subdirectories)::

    OUT/flows.parquet        the flows (canonical columns): anomaly train --data OUT
    OUT/config.json          currency and settings (not a data file: never read as one)
    OUT/labels/labels.csv    the planted truth: anomaly evaluate --labels OUT
    OUT/csv/flows.csv        the same flows as CSV, for tools without Parquet
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from anomaly.simulate.api import SimulatedWorld

__all__ = ["CONFIG_FILE", "FLOWS_CSV_FILE", "FLOWS_FILE", "LABELS_FILE", "write_world"]

#: The files :func:`write_world` writes, relative to its directory. Only the flows are
#: directly inside it: given as ``--data``, the directory is read as the flows alone.
FLOWS_FILE = "flows.parquet"
FLOWS_CSV_FILE = "csv/flows.csv"
LABELS_FILE = "labels/labels.csv"
CONFIG_FILE = "config.json"


def write_world(world: SimulatedWorld, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``flows.parquet``, ``config.json``, ``labels/labels.csv`` and ``csv/flows.csv``.

    The labels and the CSV copy of the flows sit in subdirectories, so that ``out_dir``
    holds one data file: ``anomaly train --data out_dir`` reads the flows, once.

    ``config.json`` holds the currency, the settings and what the quirks left out of
    the files (``coverage``).

    Periods are written as ``YYYY-MM`` text in every file, so that any tool reads them
    alike; the currency (EUR) is in ``config.json`` and in the Parquet metadata. Each
    file is written to a temporary name beside it and renamed into place, so a reader
    never sees a half-written file and an interrupted run leaves the previous files
    intact. Files get the umask's permissions (``0o666`` less the umask).

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
    ...     sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*"))
    ['config.json', 'csv/flows.csv', 'flows.parquet', 'labels/labels.csv']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flows = world.flows.assign(period=world.flows["period"].dt.strftime("%Y-%m"))
    labels = world.labels.assign(onset=world.labels["onset"].dt.strftime("%Y-%m"))
    settings = dataclasses.asdict(world.config)
    settings["quirks"] = sorted(settings["quirks"])  # JSON has no sets
    config = {
        "currency": world.flows.attrs.get("currency", "EUR"),
        **settings,
        "coverage": dataclasses.asdict(world.coverage),
    }

    for name in (FLOWS_CSV_FILE, LABELS_FILE):
        (out / name).parent.mkdir(exist_ok=True)
    _write_atomic(out / FLOWS_FILE, lambda path: flows.to_parquet(path, index=False))
    _write_atomic(out / FLOWS_CSV_FILE, lambda path: flows.to_csv(path, index=False))
    _write_atomic(out / LABELS_FILE, lambda path: labels.to_csv(path, index=False))
    _write_atomic(
        out / CONFIG_FILE, lambda path: path.write_text(json.dumps(config, indent=2) + "\n")
    )
    return out


def _write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    # Created with os.open's mode 0o666, which the umask trims: mkstemp's 0o600 would
    # survive the rename and hide the world from the user's group.
    temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
