"""Running jobs over chunks of files on a Dask distributed cluster (a local one, or a scheduler's address).

Each worker process loads the job once (a worker plugin, so the model is loaded at start-up, not per task) and
runs one chunk of files per task; a bounded number of chunks is in flight, so an archive of millions of files never
becomes millions of tasks at once. Dask was chosen over Ray by measurement (``docs/guide/batch.md``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker
from threadpoolctl import threadpool_limits

from cardioscreen.batch import Outcome, guarded
from cardioscreen.errors import CardioScreenError

logger = logging.getLogger(__name__)

LOCAL = "local"
_PLUGIN = "cardioscreen-job"


@dataclass(frozen=True)
class ChunkDone:
    """One finished chunk: an outcome per file, or, when the task itself was lost (its worker died), the reason."""

    paths: Sequence[Path]
    outcomes: Sequence[Outcome[Any]]
    lost: str | None = None


@dataclass(frozen=True)
class ClusterSpec:
    """Where to run.

    Attributes
    ----------
    address : str
        ``"local"`` (a cluster of worker processes on this machine) or a scheduler address (``tcp://host:8786``).
    workers : int
        Local worker processes, one thread each (ignored for a scheduler's address: its workers are whatever joined).
    """

    address: str = LOCAL
    workers: int = 2

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise CardioScreenError(f"--workers must be at least 1, got {self.workers}")


class _JobPlugin(WorkerPlugin):
    """Builds the job once in each worker (one BLAS/OpenMP thread: a worker is one core)."""

    name = _PLUGIN

    def __init__(self, make_job: Callable[[], Callable[[Path], Any]]) -> None:
        self.make_job = make_job
        self.job: Callable[[Path], Any] | None = None

    def setup(self, worker: Any) -> None:
        threadpool_limits(1)
        self.job = self.make_job()


def _run_chunk(paths: Sequence[Path]) -> list[Outcome[Any]]:
    plugin = get_worker().plugins[_PLUGIN]
    job = plugin.job if isinstance(plugin, _JobPlugin) else None
    if job is None:
        raise RuntimeError("worker job not set up")
    return [guarded(job, path) for path in paths]


@contextlib.contextmanager
def dask_client(spec: ClusterSpec) -> Iterator[Any]:
    """A connected ``distributed.Client``: to a new local cluster (closed afterwards) or to ``spec.address``."""
    if spec.address == LOCAL:
        with LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(spec.address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise CardioScreenError(f"cannot reach the Dask scheduler at {spec.address}: {exc}") from exc
    with client:
        if not client.scheduler_info().get("workers"):
            raise CardioScreenError(f"the Dask scheduler at {spec.address} has no workers")
        yield client


def run_dask(
    make_job: Callable[[], Callable[[Path], Any]],
    chunks: Iterable[Sequence[Path]],
    spec: ClusterSpec,
    *,
    on_ready: Callable[[int], None] | None = None,
) -> Iterator[ChunkDone]:
    """Run ``make_job()`` (built once per worker) on every file of ``chunks``, yielding chunks as they finish.

    Parameters
    ----------
    make_job : callable
        Picklable factory of the per-file job (e.g. :class:`~cardioscreen.archive.job.RowJob` with its arguments).
    chunks : iterable of sequences of Path
        The files, in tasks: one task per chunk. Consumed lazily.
    spec : ClusterSpec
        The cluster.
    on_ready : callable, optional
        Called with the number of worker threads once every worker has built its job (start-up is over).
    """
    with dask_client(spec) as client:
        client.register_plugin(_JobPlugin(make_job))
        threads = sum(client.nthreads().values())
        if on_ready is not None:
            on_ready(threads)
        source = iter(chunks)
        running: dict[str, Sequence[Path]] = {}
        pending = as_completed()

        def submit() -> None:
            chunk = next(source, None)
            if chunk is not None:
                future = client.submit(_run_chunk, list(chunk), pure=False)
                running[future.key] = chunk
                pending.add(future)

        for _ in range(2 * threads):
            submit()
        for future in pending:
            paths = running.pop(future.key)
            try:
                done = ChunkDone(paths, future.result())
            except Exception as exc:  # noqa: BLE001 - a lost worker loses its task, not the run
                logger.warning("task of %d files lost: %s", len(paths), exc)
                done = ChunkDone(paths, (), lost=f"{type(exc).__name__}: {exc}")
            future.release()
            submit()
            yield done

ENGINES = {"dask": run_dask}
"""Engine name -> runner (``--engine``)."""
