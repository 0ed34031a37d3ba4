"""Untrusted uploads are read and analysed in worker processes with memory, CPU and time limits.

A hostile or broken file can make a parsing library allocate gigabytes, loop for minutes or crash outright (a
malformed MATLAB file segfaults ``scipy.io.loadmat``). In a worker, that costs one job: the worker is killed (or dies)
and replaced, the job fails with :class:`JobFailedError`, the server carries on. Each worker runs under ``RLIMIT_AS``
(address space) and, per job, ``RLIMIT_CPU``; the parent gives each job a wall-clock limit. Reading, analysis and
saliency share the pool, so at most ``size`` of them run at once in this server process.

Workers come from a fork server that has imported the readers and the pipeline (a fresh worker starts in well under a
second), load the model on their first job (or at server start, :meth:`Sandbox.start`), and serve jobs one at a time
over a pipe.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import queue
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen.errors import CardioScreenError, ECGFormatError
from cardioscreen.record import ECGRecord
from cardioscreen.result import AnalysisResult

if TYPE_CHECKING:
    from cardioscreen.web.settings import WebSettings

logger = logging.getLogger(__name__)

AnalyzeFn = Callable[[ECGRecord], AnalysisResult]
PRELOADED = ["cardioscreen.io", "cardioscreen.pipeline", "onnxruntime", "torch"]
"""Modules the fork server imports once (the analysis runs on onnxruntime, the saliency on torch), so that workers
start without importing them."""
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOADED)


READY = ("ready", None)
"""What a worker sends once it is up, before its first job."""
START_S = 120.0
"""Seconds a new worker may take to start (a fork of the preloaded server; slow only on a saturated machine)."""


class JobFailedError(CardioScreenError):
    """A job's worker ran out of memory, CPU or time, or died; the worker was replaced."""


@dataclass(frozen=True)
class Limits:
    """What one worker may use.

    Attributes
    ----------
    memory_bytes : int
        Address space of the worker process (``RLIMIT_AS``), model included.
    cpu_s : int
        CPU seconds per job (``RLIMIT_CPU``, reset before each job).
    wall_s : float
        Seconds the parent waits for a job before it kills the worker.
    """

    memory_bytes: int
    cpu_s: int
    wall_s: float


def _read(analyze: AnalyzeFn, explain: AnalyzeFn, path: Path) -> ECGRecord:
    from cardioscreen.io import read_ecg

    return read_ecg(path)


def _analyze(analyze: AnalyzeFn, explain: AnalyzeFn, record: ECGRecord) -> AnalysisResult:
    return analyze(record)


def _explain(analyze: AnalyzeFn, explain: AnalyzeFn, record: ECGRecord) -> dict[str, np.ndarray]:
    return explain(record).saliency


def _shadow(analyze: AnalyzeFn, explain: AnalyzeFn, record: ECGRecord) -> dict[str, Any] | None:
    shadow = getattr(analyze, "shadow", None)
    return None if shadow is None else shadow(record)


def _warm(analyze: AnalyzeFn, explain: AnalyzeFn, _: object) -> None:
    for function in (analyze, explain):
        warm_up = getattr(function, "warm_up", None)
        if warm_up is not None:
            warm_up()


JOBS: dict[str, Callable[[AnalyzeFn, AnalyzeFn, Any], Any]] = {"read": _read, "analyze": _analyze,
                                                                "explain": _explain, "shadow": _shadow,
                                                                "warm": _warm}
"""The jobs a worker runs: ``read`` (a path to an ECGRecord), ``analyze`` (a record to its result), ``explain`` (a
record to its saliency maps by class code, each ``(12, samples)``), ``shadow`` (a record to the shadow candidate's
findings, None without one: :meth:`cardioscreen.web.analysis.PipelineAnalysis.shadow`) and ``warm`` (load the
models now)."""


def _limit_cpu(seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime) + seconds
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _out_of_memory(exc: Exception) -> bool:
    """Python's MemoryError, or torch's allocator failing (a RuntimeError saying it "can't allocate memory")."""
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def serve(conn: Connection, analyze: AnalyzeFn, explain: AnalyzeFn, limits: Limits) -> None:
    """The worker's loop: run each ``(job, argument)`` received on ``conn`` and send back ``(status, value)``.

    ``status`` is ``"ok"`` with the job's value, ``"format"`` or ``"error"`` with the message of an
    :class:`ECGFormatError` or other :class:`CardioScreenError`, ``"memory"`` when the job ran out of memory (the
    worker then exits), or ``"failed"`` with ``"Type: message"`` of any other exception (an analysis that fails is
    reported, not fatal).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    conn.send(READY)
    while True:
        try:
            job, argument = conn.recv()
        except EOFError:
            return
        _limit_cpu(limits.cpu_s)
        try:
            reply: tuple[str, Any] = ("ok", JOBS[job](analyze, explain, argument))
        except ECGFormatError as exc:
            reply = ("format", str(exc))
        except CardioScreenError as exc:
            reply = ("error", str(exc))
        except Exception as exc:  # the job's failure is the answer; the worker stays usable unless out of memory
            if _out_of_memory(exc):  # reported, then the worker exits: what it holds may leave it short
                conn.send(("memory", f"ran out of memory (limit {limits.memory_bytes // 2**20} MiB)"))
                return
            logger.exception("%s job failed in a worker", job)
            reply = ("failed", f"{type(exc).__name__}: {exc}")
        conn.send(reply)


class _Worker:
    def __init__(self, analyze: AnalyzeFn, explain: AnalyzeFn, limits: Limits) -> None:
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=serve, args=(child, analyze, explain, limits), daemon=True,
                                        name="cardioscreen-sandbox")
        self.process.start()
        child.close()
        self.ready = False

    def call(self, job: str, argument: object, wall_s: float) -> tuple[str, Any]:
        self.send(job, argument)
        return self.reply(wall_s)

    def send(self, job: str, argument: object) -> None:
        """Send a job, once the worker has said it is up (its start is not counted in the job's time limit)."""
        if not self.ready:
            self._await_start()
        try:
            self.conn.send((job, argument))
        except OSError:  # the worker is gone (a broken pipe)
            raise self._died() from None

    def reply(self, wall_s: float) -> tuple[str, Any]:
        try:
            if not self.conn.poll(wall_s):
                self.stop()
                raise JobFailedError(f"stopped after {wall_s:g} s (the time limit)")
            reply: tuple[str, Any] = self.conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        return reply

    def _await_start(self) -> None:
        try:
            if not self.conn.poll(START_S):
                self.stop()
                raise JobFailedError(f"the worker did not start within {START_S:g} s")
            self.ready = self.conn.recv() == READY
        except (EOFError, OSError):
            raise self._died() from None

    def _died(self) -> JobFailedError:
        self.process.join(1)
        code = self.process.exitcode
        cause = (f"killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
                 else f"exit status {code}")
        return JobFailedError(f"the worker died ({cause})")

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class Sandbox:
    """A pool of at most ``size`` worker processes running :data:`JOBS` under ``limits``.

    Parameters
    ----------
    analyze, explain : callable
        ``record -> AnalysisResult`` (without and with saliency); pickled into each worker.
    size : int
        Most jobs running at once; a caller waits for a free worker.
    limits : Limits
    """

    def __init__(self, analyze: AnalyzeFn, explain: AnalyzeFn, size: int, limits: Limits) -> None:
        self.analyze, self.explain, self.size, self.limits = analyze, explain, size, limits
        self._slots = threading.BoundedSemaphore(size)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start every worker and load the models in each now (servers call this at start, so that the first
        upload and the first plot do not wait for them); a model that fails to load is logged."""
        warm = [self._new_worker() for _ in range(self.size)]
        for worker in warm:
            with contextlib.suppress(JobFailedError):  # reported by reply() below
                worker.send("warm", None)
        for worker in warm:
            try:
                status, value = worker.reply(self.limits.wall_s)
            except JobFailedError as exc:
                logger.error("a sandbox worker did not start: %s", exc)
                self._forget(worker)
                continue
            if status != "ok":
                logger.error("analysis model not loaded: %s (uploads will be stored with a failed analysis)", value)
            self._idle.put(worker)

    def run(self, job: str, argument: object) -> Any:
        """Run ``job`` on ``argument`` in a worker and return its value.

        Raises
        ------
        ECGFormatError, CardioScreenError
            Raised by the job in the worker (same message).
        JobFailedError
            The worker died or passed a limit; or the job raised another exception (its type and message).
        """
        with self._slots:
            worker = self._take()
            try:
                status, value = worker.call(job, argument, self.limits.wall_s)
            except BaseException:
                self._forget(worker)
                raise
            if status == "memory":
                self._forget(worker)
            else:
                self._idle.put(worker)
        if status == "ok":
            return value
        errors = {"format": ECGFormatError, "error": CardioScreenError, "memory": CardioScreenError}
        raise errors.get(status, JobFailedError)(value)

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._new_worker()

    def _new_worker(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise JobFailedError("the server is stopping")
            worker = _Worker(self.analyze, self.explain, self.limits)
            self._workers.add(worker)
            return worker

    def _forget(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._workers.discard(worker)

    def close(self) -> None:
        """Kill every worker now (jobs in progress fail with :class:`JobFailedError`)."""
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.stop()


def build_sandbox(settings: WebSettings, analyze: AnalyzeFn | None = None, explain: AnalyzeFn | None = None,
                  size: int | None = None) -> Sandbox:
    """The sandbox of a web or queue worker process: ``size`` (default ``settings.analysis_workers``) worker
    processes under the settings' memory, CPU and time limits, analysing with ``analyze``/``explain`` (default the
    pipeline's Analyzer of the configured model, following the data folder's model registry)."""
    from cardioscreen.registry import registry_dir  # here, not at the top: a worker process imports this module
    from cardioscreen.web.analysis import PipelineAnalysis

    limits = Limits(memory_bytes=settings.worker_memory_mb * 2**20, cpu_s=math.ceil(settings.analysis_timeout_s),
                    wall_s=settings.analysis_timeout_s)
    registry = registry_dir(settings.data_dir)  # promotions in the registry reach the workers without a restart
    return Sandbox(analyze or PipelineAnalysis(settings.model_bundle, registry_dir=registry),
                   explain or PipelineAnalysis(settings.model_bundle, explain=True, registry_dir=registry),
                   size=settings.analysis_workers if size is None else size, limits=limits)
