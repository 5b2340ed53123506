"""Where partition tasks run: this process, joblib worker processes, or a Dask cluster.

Every engine maps a task function over partitions (or scan units) and yields results
as they finish. The work itself never differs between engines, so neither do the
results: each task reads its inputs from the work directory and writes its result
there, and the model reaches workers as its artifact (:mod:`anomaly.batch.models`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from typing import Any

from anomaly.batch.errors import BatchError
from anomaly.progress import counted

logger = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("local", "dask")


class LocalEngine:
    """Tasks in this process (``jobs=1``) or in ``jobs`` joblib worker processes.

    Examples
    --------
    >>> with LocalEngine(1) as engine:
    ...     sorted(engine.map(pow, [2, 3], 10))
    [(0, 100), (1, 1000)]
    """

    in_process: bool
    #: Workers run on this machine: they can read the model artifact where it is.
    same_machine = True

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.workers = jobs
        self.in_process = jobs == 1
        self._executor = None

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def share(self, value: Any) -> Any:
        """``value`` as task arguments should carry it (as is, on one machine)."""
        return value

    def release(self) -> None:
        """Stop the worker processes, and with them the models they keep."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def map(self, function: Callable, items: Sequence, *shared: Any) -> Iterator[tuple[int, Any]]:
        """``(index, function(*shared, item))`` for each item, in order of completion."""
        if self.in_process:
            for index, item in enumerate(items):
                yield index, function(*shared, item)
            return
        if self._executor is None:
            from joblib.externals.loky import get_reusable_executor

            # joblib's process executor (loky), with the workers' environment set
            # before they start (the allocator reads it then).
            self._executor = get_reusable_executor(
                max_workers=self.workers, env=dict(_WORKER_ENVIRONMENT)
            )
        futures = [
            self._executor.submit(_indexed, index, function, *shared, item)
            for index, item in enumerate(items)
        ]
        yield from _results(futures, as_completed)


class DaskEngine:
    """Tasks on a Dask cluster: an existing one at ``scheduler``, or a local one.

    Without ``scheduler``, a ``distributed.LocalCluster`` of ``jobs`` single-threaded
    worker processes is started on the loopback interface and closed afterwards.

    Examples
    --------
    >>> with DaskEngine(jobs=2) as engine:  # doctest: +SKIP
    ...     sorted(engine.map(pow, [2, 3], 10))
    [(0, 100), (1, 1000)]
    """

    in_process = False
    same_machine: bool

    def __init__(self, jobs: int = 1, scheduler: str | None = None) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise BatchError(
                "the dask engine needs the distributed package: pip install 'anomaly[dask]'"
            ) from exc
        self.cluster = None
        # A scheduler's workers may be anywhere; those of a cluster started here are not.
        self.same_machine = scheduler is None
        try:
            if scheduler is None:
                with dask.config.set({_SPAWN_ENVIRON: _dask_worker_environment()}):
                    self.cluster = LocalCluster(
                        n_workers=jobs,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        # Any free port: a fixed one collides with other clusters here.
                        dashboard_address=":0",
                    )
                self.client = Client(self.cluster)
            else:
                self.client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise BatchError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc
        self.workers = max(len(self.client.scheduler_info()["workers"]), 1)
        logger.info("dask engine: %d workers at %s", self.workers, self.client.scheduler.address)

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def share(self, value: Any) -> Any:
        """``value`` sent once to every worker; tasks receive it by reference."""
        return self.client.scatter(value, broadcast=True, hash=False)

    def release(self) -> None:
        """Make the workers drop the models they keep (they may serve other work)."""
        from anomaly.batch.models import forget

        self.client.run(forget)

    def map(self, function: Callable, items: Sequence, *shared: Any) -> Iterator[tuple[int, Any]]:
        """``(index, function(*shared, item))`` for each item, in order of completion."""
        from distributed import as_completed

        futures = [
            self.client.submit(_indexed, index, function, *shared, item, pure=False)
            for index, item in enumerate(items)
        ]
        yield from _results(futures, as_completed)


_SPAWN_ENVIRON = "distributed.nanny.pre-spawn-environ"
#: Environment of the worker processes started here. One thread each for numpy's BLAS
#: (the workers already fill the cores). glibc's allocator keeps its usual steady
#: state (heap blocks up to 32 MiB): Dask's default (trim at 64 KiB) also sends every
#: allocation over 128 KiB to mmap, so numpy's large temporaries cost page faults each
#: time — the passes ran ~1.4x slower. Memory is returned when the workers stop after
#: the run.
_WORKER_ENVIRONMENT = {
    "MALLOC_TRIM_THRESHOLD_": str(128 << 20),
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def _dask_worker_environment() -> dict:
    import dask

    return {**dask.config.get(_SPAWN_ENVIRON, default={}), **_WORKER_ENVIRONMENT}


def engine_for(engine: str, jobs: int, scheduler: str | None) -> LocalEngine | DaskEngine:
    """The engine called ``engine``."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "local":
        if scheduler is not None:
            raise BatchError("a scheduler address needs the dask engine (engine='dask')")
        return LocalEngine(jobs)
    return DaskEngine(jobs, scheduler)


def map_in_order(
    runner: LocalEngine | DaskEngine, function: Callable, items: Sequence, name: str, *shared: Any
) -> list:
    """``function(*shared, item)`` for each item on ``runner``, in item order; logged as
    step ``name`` and counted as the tasks finish."""
    items = list(items)
    results: list = [None] * len(items)
    for index, result in counted(runner.map(function, items, *shared), name, len(items)):
        results[index] = result
    return results


def _results(futures: list, completed: Callable) -> Iterator:
    """Results of ``futures`` as ``completed`` yields them finished; the others are
    cancelled if the caller stops early (an error in one task ends the map)."""
    try:
        for future in completed(futures):
            yield future.result()
    finally:
        for future in futures:
            future.cancel()


def _indexed(index: int, function: Callable, *args: Any) -> tuple[int, Any]:
    return index, function(*args)
