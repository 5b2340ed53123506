"""Writing a scoring run's outputs: ``leads.csv``, ``scores.parquet``, ``run.json``.

One writer for the in-memory run (:meth:`Scores.write`) and the batch run
(:func:`anomaly.batch.score_batch`), so the two give the same bytes. All three files
are written to temporaries beside their targets and renamed into place only when
every one is complete: a job killed midway leaves the previous outputs as they were,
never half a file nor a new file beside old ones (short of a crash between the
renames).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

OUTPUT_FILES = ("leads.csv", "scores.parquet", "run.json")


def write_outputs(
    out_dir: str | os.PathLike, leads: pd.DataFrame, scores: Iterable[pa.Table], run: dict
) -> Path:
    """Write a run's three outputs into ``out_dir`` (created if missing), atomically.

    Parameters
    ----------
    out_dir : path
    leads : pandas.DataFrame
        The leads table, written as ``leads.csv`` (:func:`write_leads_csv`).
    scores : iterable of pyarrow.Table
        The rows of ``scores.parquet``, in chunks of one schema; consumed in a second
        thread while ``leads.csv`` is written (Arrow works outside the GIL).
    run : dict
        What ``run.json`` records.

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(run, indent=2, sort_keys=True)
    written = {name: _temporary(out, name) for name in OUTPUT_FILES}
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            parquet = pool.submit(_write_parquet, written["scores.parquet"], scores)
            write_leads_csv(leads, written["leads.csv"])
            written["run.json"].write_text(text)
            parquet.result()
    except BaseException:
        for temporary in written.values():
            temporary.unlink(missing_ok=True)
        raise
    for name, temporary in written.items():
        os.replace(temporary, out / name)
    return out


def write_leads_csv(leads: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a leads table as CSV with Arrow's writer (C++, several times pandas' speed).

    Text is quoted, numbers are written in their shortest exact form (``2`` for 2.0,
    ``1e-7``), booleans as ``true``/``false``, missing values as empty fields; the
    header is quoted too. ``pandas.read_csv`` reads it back to the same values.
    """
    table = pa.Table.from_pandas(leads, preserve_index=False)
    columns = [
        column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    pa_csv.write_csv(pa.table(columns, names=table.column_names), path)


def _temporary(folder: Path, name: str) -> Path:
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    return Path(temporary)


def _write_parquet(path: Path, tables: Iterable[pa.Table]) -> None:
    writer = None
    try:
        for table in tables:
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
