"""``cardioscreen worker``: claim the queue's jobs and run them in this process's sandbox, until told to stop.

Each of ``concurrency`` threads claims a job (:func:`~cardioscreen.web.jobs.queue.claim`), runs it in the
:class:`~cardioscreen.web.sandbox.Sandbox` (the web app's memory, CPU and time limits) and stores the outcome in the
same transaction that marks the job done; one heartbeat thread extends the leases of the jobs in hand every third of
the lease. A job the sandbox could not finish (its reader or analysis crashed or passed a limit) fails its study
with the reason, as in the web process (a re-analysis that fails leaves the study its earlier result); a worker
that dies (killed, its machine lost) leaves its jobs to be claimed again when their leases run out. SIGTERM or
SIGINT: no new claims, the jobs in hand finish, then the worker exits.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cardioscreen.errors import CardioScreenError
from cardioscreen.web.analysis import AnalyzeFn
from cardioscreen.web.db import create_db_engine, make_session_factory, migrate
from cardioscreen.web.intake import analyse_stored, redo_analysis
from cardioscreen.web.jobs import queue
from cardioscreen.web.models import Study, StudyStatus, User
from cardioscreen.web.rendering import SandboxSaliency
from cardioscreen.web.sandbox import Sandbox, build_sandbox
from cardioscreen.web.settings import WebSettings
from cardioscreen.web.storage import StudyStore

logger = logging.getLogger(__name__)

POLL_S = 0.5
"""How long an idle thread waits before it looks for a job again."""


class Worker:
    """The job loop of one worker process.

    Parameters
    ----------
    settings : WebSettings
        The deployment's settings (its data folder, database, limits, lease and attempts).
    session_factory : sessionmaker
    sandbox : Sandbox
        Runs the jobs; its ``size`` is the number of jobs this worker runs at once.
    name : str, optional
        Names the worker in the jobs it claims (default ``host:pid``).
    """

    def __init__(self, settings: WebSettings, session_factory: sessionmaker[Session], sandbox: Sandbox,
                 name: str | None = None) -> None:
        self.settings, self.session_factory, self.sandbox = settings, session_factory, sandbox
        self.store = StudyStore(settings.studies_dir, settings.staging_dir)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._held: set[str] = set()
        self._held_lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """Serve jobs until ``stop`` is set, then return once the jobs in hand are finished."""
        threads = [threading.Thread(target=self._serve, args=(stop,), name=f"cardioscreen-job-{i}")
                   for i in range(self.sandbox.size)]
        beat = threading.Thread(target=self._heartbeat, name="cardioscreen-heartbeat", daemon=True)
        beat.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _serve(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with self.session_factory() as db:
                    held = queue.claim(db, self.name, self.settings.job_lease_s, self.settings.job_attempts)
            except SQLAlchemyError as exc:  # the database is away: try again later
                logger.warning("claiming a job failed: %s", exc)
                stop.wait(POLL_S * 4)
                continue
            if held is None:
                stop.wait(POLL_S)
                continue
            with self._held_lock:
                self._held.add(held.token)
            try:
                self.run_job(held)
            finally:
                with self._held_lock:
                    self._held.discard(held.token)

    def run_job(self, held: queue.Claim) -> None:
        """Run one claimed job and store its outcome with the job's completion (nothing when the lease was lost)."""
        logger.info("job %d (%s of study %d), attempt %d", held.job_id, held.kind, held.study_id, held.attempt)
        with self.session_factory() as db:
            try:
                error = self._outcome(db, held)
                if queue.finish(db, held, error):
                    db.commit()
                else:
                    db.rollback()
                    logger.warning("job %d: its lease ran out and another worker took it; outcome dropped",
                                   held.job_id)
            except SQLAlchemyError as exc:  # left to the lease: another claim runs it again
                db.rollback()
                logger.error("job %d: storing its outcome failed: %s", held.job_id, exc)

    def _outcome(self, db: Session, held: queue.Claim) -> str | None:
        """Do the job's work on the study in ``db`` (not committed); the job's error, or None when it is done."""
        study = db.get(Study, held.study_id)
        if study is None:
            return "the study no longer exists"
        try:
            self._work(db, held, study)
        except CardioScreenError as exc:  # the sandbox's verdict on this job: running it again would repeat it
            _settle(held.kind, study, None)
            return str(exc)
        except (OSError, ValueError) as exc:  # the study's files are damaged or missing
            logger.exception("job %d failed", held.job_id)
            _settle(held.kind, study, f"{type(exc).__name__}: {exc}")
            return f"{type(exc).__name__}: {exc}"
        return None

    def _work(self, db: Session, held: queue.Claim, study: Study) -> None:
        if held.kind == queue.ANALYSE:
            analyse_stored(db, self.store, self.sandbox, study)
        elif held.kind == queue.REANALYSE:
            actor = db.get(User, held.requested_by) if held.requested_by is not None else None
            redo_analysis(db, self.store, self.sandbox, study, actor, client=held.client)
        else:
            SandboxSaliency(self.store, self.sandbox).ensure(study)

    def _heartbeat(self) -> None:
        """Extend the leases of the jobs in hand every third of the lease, for as long as the process lives."""
        period = self.settings.job_lease_s / 3
        while True:
            time.sleep(period)
            with self._held_lock:
                tokens = set(self._held)
            try:
                with self.session_factory() as db:
                    queue.heartbeat(db, tokens, self.settings.job_lease_s)
            except SQLAlchemyError as exc:
                logger.warning("heartbeat failed: %s", exc)


def _settle(kind: str, study: Study, error: str | None) -> None:
    """The study of a job that failed: an upload's analysis whose files were damaged fails it with ``error``; a
    re-analysis leaves it its earlier result (the job keeps the error)."""
    if kind == queue.REANALYSE:
        study.status = queue.settled_status(study.result)
    elif kind == queue.ANALYSE and error is not None:
        study.status, study.error = StudyStatus.FAILED.value, error


def run_worker(settings: WebSettings, concurrency: int | None = None, analyze: AnalyzeFn | None = None,
               explain: AnalyzeFn | None = None, stop: threading.Event | None = None) -> None:
    """Start a worker on the deployment of ``settings`` and serve jobs until SIGTERM/SIGINT (or ``stop``).

    Parameters
    ----------
    concurrency : int, optional
        Jobs at once (sandbox processes); default ``settings.analysis_workers``.
    analyze, explain : callable, optional
        As for :func:`cardioscreen.web.main.create_app` (default the pipeline's Analyzer with the configured model).

    Raises
    ------
    CardioScreenError
        The deployment's database is SQLite (its web process analyses uploads itself), or ``concurrency`` < 1.
    """
    if settings.uses_sqlite():
        raise CardioScreenError("the job queue needs PostgreSQL: set CARDIOSCREEN_DATABASE_URL (with SQLite the web "
                                "app analyses each upload itself)")
    size = settings.analysis_workers if concurrency is None else concurrency
    if size < 1:
        raise CardioScreenError("--concurrency must be at least 1")
    engine = create_db_engine(settings.resolved_database_url())
    migrate(engine)
    sandbox = build_sandbox(settings, analyze, explain, size=size)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    try:
        sandbox.start()
        worker = Worker(settings, make_session_factory(engine), sandbox)
        logger.warning("worker %s serving jobs (%d at once)", worker.name, size)
        worker.run(stop)
    finally:
        sandbox.close()
        engine.dispose()
