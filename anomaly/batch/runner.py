"""``score_batch``: the scan and the two passes over partitions, then the outputs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from anomaly._version import __version__
from anomaly.batch.assemble import gather_summary, history_tables, scores_schema, window_tables
from anomaly.batch.engines import DaskEngine, LocalEngine, engine_for, map_in_order
from anomaly.batch.history import history_frame
from anomaly.batch.models import ModelRef
from anomaly.batch.partition import default_partitions
from anomaly.batch.scan import ScanPlan, UnitSummary, scan_table, scan_unit
from anomaly.batch.sources import Inputs, resolve_inputs
from anomaly.batch.store import Share
from anomaly.batch.tasks import PassPlan, partition_evidence, partition_share
from anomaly.batch.workdir import LAYOUT, WorkDir, discarding, work_directory
from anomaly.errors import DataError
from anomaly.io import read_flows
from anomaly.io.read import check_currency_name, declared_currency, one_currency
from anomaly.model import (
    HISTORY_LEADS,
    HISTORY_MONTHS,
    RunOutputs,
    TradeAnomalyModel,
    demand_record,
    load_model,
    raise_after_data,
    run_record,
    with_goods,
)
from anomaly.panel import as_month
from anomaly.progress import step
from anomaly.schema import SERIES_KEY_COLUMNS

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike


@dataclass(frozen=True)
class BatchResult:
    """What :func:`score_batch` wrote.

    Attributes
    ----------
    leads : pandas.DataFrame
        The leads (as in ``leads.csv``), best first.
    run : dict
        What ``run.json`` records.
    out_dir : pathlib.Path
        Where ``leads.csv``, ``scores.parquet`` and ``run.json`` are.
    timings : dict
        Seconds spent in each step (scan, pass 1, pass 2, ranking, writing).
    """

    leads: pd.DataFrame
    run: dict
    out_dir: Path
    timings: dict[str, float] = field(default_factory=dict)


def score_batch(
    model_or_path: TradeAnomalyModel | PathLike,
    inputs: PathLike | Sequence[PathLike],
    *,
    start: str | pd.Period,
    end: str | pd.Period | None = None,
    out_dir: PathLike,
    format: str = "auto",
    engine: str = "local",
    jobs: int = 1,
    scheduler: str | None = None,
    partitions: int | None = None,
    work_dir: PathLike | None = None,
    strict: bool = False,
    demand: pd.DataFrame | None = None,
    currency: str | None = None,
) -> BatchResult:
    """Score files in partitions of series, in parallel, with restartable steps.

    Gives the same ``leads.csv`` (and the same rows of ``scores.parquet``) as
    ``model.score(read_flows(inputs), start, end).write(out_dir)``, without holding
    the input or the series-month detail in memory: canonical Parquet is read in
    batches, split by the unordered country pair of each series, and every partition
    is scored in two passes (its share of the scoring context, then its evidence).

    Parameters
    ----------
    model_or_path : TradeAnomalyModel or path
        A fitted model, or its artifact (directory or ``.zip``).
    inputs : path or sequence of paths
        Files or directories, as for :func:`anomaly.read_flows`; canonical Parquet
        (including a directory dataset of any depth) is read natively, in batches.
    start, end : str or pandas.Period
        The scoring window (``end`` defaults to the last month in the data).
    out_dir : path
        Where to write ``leads.csv``, ``scores.parquet`` and ``run.json``.
    format : str
        The input format (see :func:`anomaly.read_flows`).
    engine : {"local", "dask"}
        Local processes (joblib), or a Dask cluster (``pip install 'anomaly[dask]'``).
    jobs : int
        Worker processes: of joblib (1: in this process), or of the local Dask
        cluster started when no ``scheduler`` is given.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``). Its workers must
        see ``work_dir`` (shared storage); the model is sent to them as bytes.
    partitions : int, optional
        Number of partitions; default one per ten million input rows, at least two per
        worker (a resumed run keeps its work directory's count).
    work_dir : path, optional
        Keep each step's results here so that a killed run, started again with the
        same arguments, resumes where it stopped; default: a temporary directory.
    strict : bool
        Passed to :func:`anomaly.load` for a model given as a path.
    demand : pandas.DataFrame, optional
        Flows of other goods for an external general-demand control
        (:meth:`TradeAnomalyModel.demand_control`), as ``model.score(..., demand=...)``.
    currency : {"EUR", "USD"}, optional
        The currency of input files without a currency column, as for
        :func:`anomaly.read_flows`; files in another currency are refused. No
        conversion is made here: the inputs must be in the model's currency.

    Returns
    -------
    BatchResult

    Raises
    ------
    DataError
        Bad input (the file, line and column are named), as :func:`anomaly.read_flows`.
    BatchError
        A work directory of another job, or an engine that cannot run.

    Examples
    --------
    >>> result = score_batch("models/default", "flows/", start="2022-01",
    ...                      out_dir="out", jobs=2)  # doctest: +SKIP
    >>> result.leads.head()  # doctest: +SKIP
    """
    check_currency_name(currency)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The inputs are hashed (their identity in the work directory) while the model
        # loads; an error of the inputs is raised after the model's, as before.
        identified = pool.submit(_identified, inputs, format)
        model, model_path = _model(model_or_path, strict)
        first = as_month(start)
        # The window's checks of an in-memory run (end = start stands in until the
        # data says where an open window ends).
        model.scoring_window(first, end if end is not None else first, None)
        source, fingerprint = identified.result()
    timings: dict[str, float] = {}
    with work_directory(work_dir, "anomaly-batch-") as work:
        with engine_for(engine, jobs, scheduler) as runner:
            table = None
            if not source.native and not work.unit_dir(0).exists():
                with _timed(timings, "read", shown=True):
                    table = read_flows(list(source.paths), format=format, currency=currency)
            n_rows = source.n_rows or (len(table) if table is not None else 0)
            n_partitions = (
                partitions
                or work.recorded_partitions()
                or default_partitions(n_rows, runner.workers)
            )
            work.claim(_job(source, fingerprint, first, end, model, n_partitions))
            ref = _model_ref(runner, model, model_path, work, strict)

            with _timed(timings, "scan"):
                currency, last = _scan(
                    runner, work, source, table, n_partitions, first, end, model, currency
                )
                model.check_currency(currency)
                # Fresh workers for the passes: joblib's workers measure their memory after
                # their first task and restart when it grows by 300 MB — as loading the
                # model after a scan task does.
                runner.release()
            passes = PassPlan(work, source.files, n_partitions, first.ordinal, last, HISTORY_MONTHS)
            with _timed(timings, "pass 1"):
                used, merged = _pass_one(runner, passes, ref)
            with _timed(timings, "pass 2"):
                context = merged.context
                if demand is not None:
                    window = passes.periods[0], passes.periods[-2]
                    context = context.with_demand(model.demand_control(demand, *window))
                context = runner.share(context)
                map_in_order(
                    runner, partition_evidence, used, "pass 2/2 (evidence)", passes, ref, context
                )
            workers = runner.workers
        # What follows runs here, with the workers (and a local cluster) stopped: their
        # copies of the model only take memory, and a cluster's upkeep takes CPU.
        periods = passes.periods[:-1]
        with (
            discarding(work) as discard,
            RunOutputs(out_dir) as outputs,
            _TopHistory(passes, merged, model) as history,
        ):
            discard(work.path / "panels")  # pass 2 read them last
            with _timed(timings, "ranking", shown=True):
                summary = gather_summary(work, used)
                schema = scores_schema(summary, periods)
                # The window's series-months are written while the leads are ranked.
                tables = window_tables(work, summary, periods, schema, model.chp_version)
                outputs.add_scores(tables)
                leads = model.rank_leads(
                    summary.table, periods, currency=currency, ranked=history.start
                )
            with _timed(timings, "writing", shown=True):
                # leads.csv is formatted in a thread while the top leads' history is read.
                with ThreadPoolExecutor(max_workers=1) as pool:
                    written = pool.submit(outputs.write_leads, leads)
                    top = leads.head(HISTORY_LEADS)
                    outputs.add_scores(history_tables(with_goods(history.frame(), top), schema))
                    discard(work.path / "scan")  # the top leads' history read it last
                    written.result()
                run = run_record(
                    leads,
                    periods,
                    currency=currency or model.currency_,
                    model=str(model_or_path) if model_path is not None else None,
                    batch={"engine": engine, "workers": workers, "partitions": n_partitions},
                    coverage=merged.context.coverage(),
                )
                if demand is not None:
                    run["demand_control"] = demand_record(demand)
                outputs.write_run(run)
                out = outputs.finish()
    logger.info("batch scoring: %s", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return BatchResult(leads, run, out, timings)


class _TopHistory:
    """The top leads' months before the window (:func:`history_frame`), read in a
    thread from the moment the leads are ranked, while they are explained and sorted
    (a context manager: leaving it waits for the thread).

    Parameters
    ----------
    passes : PassPlan
    merged : Share
        The whole run's context share (who published before the window).
    model : TradeAnomalyModel
    """

    def __init__(self, passes: PassPlan, merged: Share, model: TradeAnomalyModel) -> None:
        self._read = partial(
            history_frame, plan=passes, published=merged.history, hs_level=model.hs_level
        )
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._frame: Future | None = None

    def __enter__(self) -> _TopHistory:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown()

    def start(self, table: pd.DataFrame, order: np.ndarray) -> None:
        """Start reading the history of the top :data:`HISTORY_LEADS` of the series of
        ``table`` ranked in ``order`` (the ``ranked`` hook of
        :meth:`TradeAnomalyModel.rank_leads`)."""
        top = table.iloc[order[:HISTORY_LEADS]][list(SERIES_KEY_COLUMNS)]
        self._frame = self._pool.submit(self._read, top)

    def frame(self) -> pd.DataFrame:
        """The rows :func:`history_frame` gives for the top leads."""
        if self._frame is None:
            raise RuntimeError("the leads were not ranked")
        return self._frame.result()


def _model(model_or_path, strict: bool) -> tuple[TradeAnomalyModel, Path | None]:
    if isinstance(model_or_path, TradeAnomalyModel):
        model_or_path.check_fitted()
        return model_or_path, None
    path = Path(model_or_path)
    return load_model(path, strict=strict), path


def _model_ref(
    runner: LocalEngine | DaskEngine,
    model: TradeAnomalyModel,
    path: Path | None,
    work: WorkDir,
    strict: bool,
) -> ModelRef | TradeAnomalyModel:
    """The model as tasks receive it: the object in this process, else its artifact —
    its path for workers on this machine, its bytes for a cluster's."""
    if runner.in_process:
        return model
    if path is None:
        path = work.model_dir
        if not path.exists():
            model.save(path)
    if runner.same_machine:
        return runner.share(ModelRef.from_path(path, strict=strict))
    return runner.share(ModelRef.packed(path, strict=strict))


def _identified(inputs: PathLike | Sequence[PathLike], format: str) -> tuple[Inputs, list[list]]:
    """The resolved inputs and their identity (:meth:`Inputs.fingerprint`)."""
    source = resolve_inputs(inputs, format)
    return source, source.fingerprint()


def _job(
    source: Inputs,
    fingerprint: list[list],
    first,
    end,
    model: TradeAnomalyModel,
    n_partitions: int,
) -> dict:
    """What identifies a run's work (``fingerprint``: the inputs'): a work directory
    serves only runs that match."""
    identity = json.dumps(
        [
            model.data_fingerprint_,
            list(model.train_window_),
            model.alert_threshold_,
            model.hs_level,
            type(model.forecaster_).__name__,
        ]
    )
    return {
        "anomaly": __version__,
        "layout": LAYOUT,
        "inputs": fingerprint,
        "format": source.format,
        "window": [str(first), None if end is None else str(as_month(end))],
        "model": hashlib.sha256(identity.encode()).hexdigest(),
        "n_partitions": n_partitions,
    }


def _scan(
    runner, work: WorkDir, source: Inputs, table, n_partitions: int, first, end, model, currency
) -> tuple[str | None, int]:
    """Split the input by partition; its currency (``currency``: the one declared for
    files without a currency column) and the window's last month."""
    lo = first.ordinal - HISTORY_MONTHS
    hi = as_month(end).ordinal + 1 if end is not None else np.iinfo(np.int32).max
    plan = ScanPlan(source, work, n_partitions, lo, hi, model.hs_level)
    if source.native:
        found = map_in_order(runner, scan_unit, range(len(source.units)), "scan", plan)
    elif table is None:
        found = [UnitSummary.read(work.unit_dir(0))]
    else:
        found = [scan_table(plan, table)]
    currency, last = _combined(found, source, currency)
    if end is not None:
        if as_month(end).ordinal > last:
            raise_after_data(as_month(end), pd.Period(ordinal=last, freq="M"))
        return currency, as_month(end).ordinal
    model.scoring_window(first, pd.Period(ordinal=last, freq="M"), None)
    return currency, last


def _pass_one(runner, passes: PassPlan, ref) -> tuple[list[int], Share]:
    """Every partition's share of the context: the partitions with series, merged."""
    partitions = range(passes.n_partitions)
    shares = map_in_order(runner, partition_share, partitions, "pass 1/2 (context)", passes, ref)
    used = [p for p, share in enumerate(shares) if share is not None]
    if not used:
        first, last = passes.periods[0], passes.periods[-2]
        raise DataError(f"no flows reported in the scoring window {first}..{last}")
    merged = shares[used[0]]
    for partition in used[1:]:
        merged = merged.merge(shares[partition])
    return used, merged


def _combined(
    found: list[UnitSummary], source: Inputs, requested: str | None
) -> tuple[str | None, int | None]:
    """The inputs' one currency (read_flows's rule: a file without a currency column
    takes the one declared) and the last month at the model's HS level."""
    if source.native:
        currency = one_currency(
            {unit.path: s.currency for unit, s in zip(source.units, found, strict=True)},
            requested,
        )
    else:  # read by read_flows with the declared currency (or a run resumed without it)
        (table_currency,) = {s.currency for s in found}
        currency = declared_currency(
            table_currency, requested, ", ".join(source.paths), inputs="the inputs are"
        )
    lasts = [s.last for s in found if s.last is not None]
    if not lasts:
        raise DataError(
            "no flows at the model's HS level in the input", source=", ".join(source.paths)
        )
    return currency, max(lasts)


@contextmanager
def _timed(timings: dict[str, float], name: str, *, shown: bool = False):
    """Time a step (and announce it, unless its passes are counted on their own)."""
    started = time.perf_counter()
    if shown:
        with step(name):
            yield
    else:
        yield
    timings[name] = time.perf_counter() - started
