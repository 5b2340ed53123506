"""Writing a scoring run's outputs: ``leads.csv``, ``scores.parquet``, ``run.json``.

One writer for the in-memory run (:meth:`Scores.write`) and the batch run
(:func:`anomaly.batch.score_batch`), and one builder of what ``run.json`` records
(:func:`run_record`), so the two give the same ``leads.csv`` and ``run.json`` bytes
(but for the batch run's own ``batch`` entry) and the same rows of ``scores.parquet``
(its row groups follow the chunks each run writes). All three files
are written to temporaries beside their targets and renamed into place only when
every one is complete: a job killed midway leaves the previous outputs as they were,
never half a file nor a new file beside old ones (short of a crash between the
renames). Files made from an earlier run's outputs (:data:`DERIVED_FILES`: the HTML
report) are removed just before the renames, so the folder never shows a report of
another run; ``anomaly report`` writes a new one. The files get the permissions of any
file the user creates (``0o666`` less the umask), not a temporary file's ``0o600``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from anomaly.artifacts import remove_stale_siblings, temporary_sibling
from anomaly.errors import InputOutputError
from anomaly.reference import GOODS_COLUMNS

OUTPUT_FILES = ("leads.csv", "scores.parquet", "run.json")
#: Files whose sha256 ``run.json`` records, so that a set mixed by an interrupted
#: rename is told apart from a run's own.
BOUND_FILES = ("leads.csv", "scores.parquet")
#: Files that other commands make from the outputs (``anomaly report``'s page): a new
#: run removes them, since they would describe the previous one.
DERIVED_FILES = ("report.html",)
#: Rows of ``leads.csv`` are formatted in this many parts at once (Arrow's CSV writer
#: works outside the GIL; the parts are written in order, so the file is the same).
CSV_PARTS = 2

logger = logging.getLogger(__name__)


def check_replaceable_outputs(out: Path) -> None:
    """Refuse a folder where a run's outputs would replace files it did not write.

    ``out`` may be missing, or a folder holding none of :data:`OUTPUT_FILES` and
    :data:`DERIVED_FILES`, or an earlier run's outputs (beside its ``run.json``, which
    records the scored window and the files written); a ``leads.csv`` without such a
    ``run.json`` is someone else's.

    Raises
    ------
    InputOutputError
        ``out`` is a file, or holds files of those names that no run wrote.
    """
    if not os.path.lexists(out):
        return
    if not out.is_dir():
        raise InputOutputError(
            str(out), "exists and is not a directory; expected a directory for the outputs"
        )
    present = [name for name in (*OUTPUT_FILES, *DERIVED_FILES) if (out / name).exists()]
    if not present:
        return
    try:
        run = json.loads((out / "run.json").read_bytes())
    except (OSError, ValueError):
        run = None
    if not (isinstance(run, dict) and ("files" in run or "scored_window" in run)):
        raise InputOutputError(
            str(out),
            f"holds {', '.join(present)} that no anomaly run wrote (no run.json recording "
            "them); refusing to replace them: move them or choose another --out",
        )


def run_record(
    leads: pd.DataFrame,
    periods: Sequence[pd.Period],
    *,
    currency: str | None,
    model: str | None = None,
    batch: Mapping[str, object] | None = None,
    coverage: pd.DataFrame | None = None,
) -> dict:
    """What ``run.json`` records about a scoring run.

    Parameters
    ----------
    leads : pandas.DataFrame
        The ranked leads, one row per series scored (its ``alert`` column is counted).
    periods : sequence of pandas.Period
        The scored months, first to last (a ``pandas.PeriodIndex``).
    currency : str or None
        The currency of every amount, None if not known.
    model : str, optional
        Which model scored (its path, or a description); left out when None.
    batch : mapping, optional
        How a batch run was split up (engine, workers, partitions); left out when None.
    coverage : pandas.DataFrame, optional
        Reporter-months of the window not published in full (``reporter, period,
        status``, see :meth:`anomaly.model.ScoringContext.coverage`); recorded as
        ``coverage``: ``{status: {reporter: [months]}}``, where it is not empty.

    Returns
    -------
    dict
        ``scored_window`` (first and last month), ``currency``, ``n_series``,
        ``n_alerts``, then ``model`` and ``batch`` when given.

    Examples
    --------
    >>> leads = pd.DataFrame({"alert": [True, False, False]})
    >>> run_record(leads, pd.period_range("2022-01", "2022-11", freq="M"), currency="EUR")
    {'scored_window': ['2022-01', '2022-11'], 'currency': 'EUR', 'n_series': 3, 'n_alerts': 1}
    """
    run = {
        "scored_window": [str(periods[0]), str(periods[-1])],
        "currency": currency,
        "n_series": len(leads),
        "n_alerts": int(leads["alert"].sum()),
    }
    if model is not None:
        run["model"] = model
    if batch is not None:
        run["batch"] = dict(batch)
    if coverage is not None and len(coverage):
        run["coverage"] = {
            status: {
                str(reporter): [str(p) for p in months["period"]]
                for reporter, months in rows.groupby("reporter", sort=True)
            }
            for status, rows in coverage.groupby("status", sort=True)
        }
    return run


def demand_record(demand: pd.DataFrame) -> dict:
    """What ``run.json`` records of an external general-demand control (its
    ``demand_control`` entry): the files it was read from and its months.

    Examples
    --------
    >>> flows = pd.DataFrame({"period": pd.PeriodIndex(["2019-01", "2024-08"], freq="M")})
    >>> flows.attrs["sources"] = ["totals.csv"]
    >>> demand_record(flows)
    {'sources': ['totals.csv'], 'months': ['2019-01', '2024-08']}
    """
    periods = demand["period"]
    return {
        "sources": [str(source) for source in demand.attrs.get("sources", ["a DataFrame"])],
        "months": [str(periods.min()), str(periods.max())],
    }


class RunOutputs:
    """A run's outputs while they are written (a context manager).

    ``scores.parquet`` is written in a second thread from the chunks of rows given to
    :meth:`add_scores`, while this thread goes on (ranking, formatting ``leads.csv``:
    Arrow works outside the GIL, so the two overlap). :meth:`finish` (or leaving the
    ``with`` block) waits for it, removes an earlier run's :data:`DERIVED_FILES` and
    renames the three files into place; an error anywhere removes the temporaries and
    leaves the previous outputs (and report) as they were. ``leads.csv`` and
    ``scores.parquet`` are hashed as they are written (``run.json`` records their
    sha256), not read back at the end.

    Examples
    --------
    >>> with RunOutputs("out") as outputs:  # doctest: +SKIP
    ...     outputs.add_scores(tables)
    ...     outputs.write_leads(leads)
    ...     outputs.write_run({"n_series": len(leads)})
    """

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.out = Path(out_dir)
        self._chunks: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._finished = False
        self._done: set[str] = set()
        self._digests: dict[str, str] = {}

    def __enter__(self) -> RunOutputs:
        check_replaceable_outputs(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self._written = {name: _temporary(self.out, name) for name in OUTPUT_FILES}
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._parquet = self._pool.submit(self._write_parquet, self._written["scores.parquet"])
        return self

    def add_scores(self, tables: Iterable[pa.Table]) -> None:
        """Append chunks of ``scores.parquet`` rows (one schema throughout)."""
        self._chunks.put(tables)

    def write_leads(self, leads: pd.DataFrame) -> None:
        """Write the leads table (see :func:`write_leads_csv`); a failure of the disk
        names the output (Arrow's error does not)."""
        try:
            with _DigestedFile(self._written["leads.csv"]) as sink:
                write_leads_csv(leads, sink)
        except InputOutputError:
            raise
        except OSError as error:
            target = self.out / "leads.csv"
            raise InputOutputError(str(target), error.strerror or str(error)) from error
        self._digests["leads.csv"] = sink.hexdigest()
        self._done.add("leads.csv")

    def write_run(self, run: dict) -> None:
        """Set what ``run.json`` records (written by :meth:`finish`, with the sha256 of
        the other two files under ``files``: readers check that the three belong
        together)."""
        self._run = dict(run)
        self._done.add("run.json")

    def finish(self) -> Path:
        """Wait for ``scores.parquet``, remove an earlier run's :data:`DERIVED_FILES`
        and rename the three files into place.

        Leaving the ``with`` block does this too (or, on an error, removes them).
        """
        if not self._finished:
            self._finished = True
            self._chunks.put(None)
            try:
                if not self._parquet.result():
                    raise ValueError("no rows of scores.parquet were given")
                unwritten = sorted({"leads.csv", "run.json"} - self._done)
                if unwritten:
                    raise ValueError(f"{', '.join(unwritten)} not written")
                files = {name: self._digests[name] for name in BOUND_FILES}
                run = self._run | {"files": files}
                self._written["run.json"].write_text(json.dumps(run, indent=2, sort_keys=True))
            except BaseException:
                # Interrupted or failed: the writer thread stops at its next chunk.
                self._stop.set()
                self._discard()
                raise
            finally:
                self._pool.shutdown()
            for name in DERIVED_FILES:
                stale = self.out / name
                if stale.exists():
                    stale.unlink()
                    logger.info("removed %s: it showed the previous run", stale)
            # run.json last: until it is in place, the old one names other files' digests.
            for name, temporary in self._written.items():
                os.replace(temporary, self.out / name)
        return self.out

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.finish()
        elif not self._finished:
            self._finished = True
            self._stop.set()
            self._chunks.put(None)
            self._pool.shutdown()
            self._discard()

    def _write_parquet(self, path: Path) -> bool:
        """Write the chunks as they come; whether any was written."""
        writer = None
        with _DigestedFile(path) as sink:
            try:
                while (tables := self._chunks.get()) is not None:
                    for table in tables:
                        if self._stop.is_set():
                            return False
                        table = _text_as_dictionaries(table)
                        if writer is None:
                            writer = _parquet_writer(sink, table.schema)
                        writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()
        self._digests["scores.parquet"] = sink.hexdigest()
        return writer is not None

    def _discard(self) -> None:
        for temporary in self._written.values():
            temporary.unlink(missing_ok=True)


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
        The rows of ``scores.parquet``, in chunks of one schema.
    run : dict
        What ``run.json`` records.

    Returns
    -------
    pathlib.Path
        ``out_dir``.
    """
    with RunOutputs(out_dir) as outputs:
        outputs.add_scores(scores)
        outputs.write_leads(leads)
        outputs.write_run(run)
        return outputs.finish()


def write_leads_csv(leads: pd.DataFrame, path: str | os.PathLike | BinaryIO) -> None:
    """Write a leads table as CSV with Arrow's writer (C++, several times pandas' speed).

    Text is quoted, numbers are written in their shortest exact form (``2`` for 2.0,
    ``1e-7``), booleans as ``true``/``false``, missing values as empty fields; the
    header is quoted too. ``pandas.read_csv`` reads it back to the same values. The
    rows are formatted in :data:`CSV_PARTS` parts at once and written in order.

    Parameters
    ----------
    leads : pandas.DataFrame
    path : path or binary file
        The file to write (replaced if it exists: callers write to a temporary), or
        a file open for writing.
    """
    table = pa.Table.from_pandas(leads, preserve_index=False)
    columns = [
        column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    table = pa.table(columns, names=table.column_names)
    size = max(1, -(-table.num_rows // CSV_PARTS))
    rest = [table.slice(start, size) for start in range(size, table.num_rows, size)]
    with ThreadPoolExecutor(max_workers=CSV_PARTS) as pool:
        # The parts after the first are formatted in memory while the first is written.
        formatted = [pool.submit(_csv_text, part) for part in rest]
        pa_csv.write_csv(table.slice(0, size), path)
        if formatted:
            with _appending(path) as sink:
                for part in formatted:
                    sink.write(part.result())


def _csv_text(table: pa.Table) -> pa.Buffer:
    """``table``'s rows as CSV text without the header."""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, write_options=pa_csv.WriteOptions(include_header=False))
    return sink.getvalue()


@contextmanager
def _appending(path: str | os.PathLike | BinaryIO) -> Iterator[BinaryIO]:
    """``path`` open for appending, or the file object given (left open)."""
    if hasattr(path, "write"):
        yield path
        return
    with open(path, "ab") as handle:
        yield handle


class _DigestedFile:
    """A file written from the start, hashed (sha256) as its bytes are written.

    A context manager: the file is opened for writing on entering and closed on
    leaving. Parquet's and Arrow's CSV writers only append, so the digest is that
    of the file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with _DigestedFile(Path(folder) / "empty") as sink:
    ...         pass
    >>> sink.hexdigest()[:16]
    'e3b0c44298fc1c14'
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self._path = path
        self._digest = hashlib.sha256()

    def __enter__(self) -> _DigestedFile:
        self._handle = open(self._path, "wb")  # closed on leaving
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()

    def write(self, data) -> int:
        """Write ``data`` (bytes-like) and add it to the digest."""
        self._digest.update(data)
        return self._handle.write(data)

    def tell(self) -> int:
        return self._handle.tell()

    def flush(self) -> None:
        self._handle.flush()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def hexdigest(self) -> str:
        """The sha256 of the bytes written so far, in hex."""
        return self._digest.hexdigest()


def _text_as_dictionaries(table: pa.Table) -> pa.Table:
    """Text columns as dictionaries (int32 codes of ``string`` values): how
    ``scores.parquet`` is written whatever the caller gives, a few distinct keys
    repeated over millions of rows. A column of nothing but missing values (pandas
    gives Arrow's null type) is text too: its type must not depend on whether a chunk
    happened to hold a value."""
    columns = []
    for column in table.columns:
        if pa.types.is_null(column.type) or is_text(column.type):
            column = pc.dictionary_encode(column.cast(pa.string()))
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def is_text(kind: pa.DataType) -> bool:
    """Whether an Arrow type holds text: pandas 3 gives ``large_string`` (or string
    views) where pandas 2 gave ``string``.

    Examples
    --------
    >>> is_text(pa.large_string()), is_text(pa.dictionary(pa.int32(), pa.string()))
    (True, False)
    """
    types = pa.types
    return types.is_string(kind) or types.is_large_string(kind) or types.is_string_view(kind)


def _parquet_writer(path: Path | BinaryIO, schema: pa.Schema) -> pq.ParquetWriter:
    """Parquet with dictionary pages for text only (numbers are rarely repeated: trying
    dictionaries on them costs time for nothing), without Arrow's schema, so readers
    see text columns as plain strings. The goods columns (texts of the HS code) get no
    min/max statistics: no reader filters on a description, and computing them over
    tens of millions of rows costs a sixth of the writing."""
    text = [field.name for field in schema if pa.types.is_dictionary(field.type)]
    with_statistics = [name for name in schema.names if name not in GOODS_COLUMNS]
    return pq.ParquetWriter(
        path, schema, use_dictionary=text, write_statistics=with_statistics, store_schema=False
    )


def _temporary(folder: Path, name: str) -> Path:
    """A new empty hidden file beside ``folder/name``, with the umask's permissions.

    ``tempfile.mkstemp`` would make it ``0o600``, and the rename would carry that mode to
    the output: files that the user's group (or a web server) could read before a run
    would no longer be readable after it.
    """
    # Hidden files a killed run left beside this output are swept first (only those of
    # dead processes of this machine: a concurrent writer keeps its own).
    remove_stale_siblings(folder / name)
    while True:
        temporary = temporary_sibling(folder / name)
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue  # a name taken by chance: draw another
        os.close(handle)
        return temporary
