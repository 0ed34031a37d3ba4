"""The job queue's table operations: enqueue, claim under a lease, heartbeat, finish (PostgreSQL).

A claim takes the first open job (queued, or running with its lease run out) in ``(priority, id)`` order with
``FOR UPDATE SKIP LOCKED``, so concurrent workers never take the same job and never wait for each other. Lease times
are the database's clock (``now()``), never a worker's. :func:`finish` succeeds only for the current lease's holder:
call it in the transaction that stores the job's result, and roll back when it returns False.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Update, and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from cardioscreen.web.models import Job, Study, StudyStatus

ANALYSE = "analyse"
EXPLAIN = "explain"
REANALYSE = "reanalyse"
PRIORITY = {EXPLAIN: 0, ANALYSE: 1, REANALYSE: 1}
"""Claim order of the job kinds: a page waits on an ``explain`` job, nobody on an ``analyse`` or ``reanalyse``
job."""
ANALYSING_KINDS = (ANALYSE, REANALYSE)
"""The kinds whose study shows ``analysing`` while a worker holds the job."""
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True)
class Claim:
    """A job a worker holds: run it, then :func:`finish` it with ``token``; ``requested_by`` and ``client`` name
    who asked for it (:func:`enqueue`)."""

    job_id: int
    kind: str
    study_id: int
    token: str
    attempt: int
    requested_by: int | None = None
    client: str = ""


def enqueue(db: Session, kind: str, study_id: int, requested_by: int | None = None, client: str = "") -> Job:
    """Add a job (flushed, not committed: commit it with the study it is for); ``requested_by`` (a user id) and
    ``client`` (an address) name who asked for it, for the audit log."""
    if kind not in PRIORITY:
        raise ValueError(f"unknown job kind {kind!r}; one of {sorted(PRIORITY)}")
    job = Job(kind=kind, study_id=study_id, state=QUEUED, priority=PRIORITY[kind], attempts=0, worker="",
              requested_by=requested_by, client=client[:64])
    db.add(job)
    db.flush()
    return job


def open_job(db: Session, kind: str, study_id: int) -> Job | None:
    """The study's queued or running job of ``kind``, if any (a page asking twice waits on the same job)."""
    query = (select(Job).where(Job.kind == kind, Job.study_id == study_id, Job.state.in_((QUEUED, RUNNING)))
             .order_by(Job.id).limit(1))
    return db.scalar(query)


def job_state(db: Session, job_id: int) -> tuple[str, str | None]:
    """``(state, error)`` of a job; ``("failed", ...)`` for a job that is gone (its study was deleted)."""
    row = db.execute(select(Job.state, Job.error).where(Job.id == job_id)).first()
    return (str(row.state), row.error) if row is not None else (FAILED, "the job no longer exists")


def _lease_end(lease_s: float) -> object:
    return func.now() + timedelta(seconds=lease_s)


def claim(db: Session, worker: str, lease_s: float, attempts: int) -> Claim | None:
    """Claim the next open job for ``worker`` (committed), or None when there is none.

    A job already claimed ``attempts`` times whose lease ran out again is given up instead: it is marked failed and,
    for an upload's analysis, so is its study ("its worker stopped" each time); a re-analysis given up leaves the
    study its earlier result.
    """
    while True:
        expired = and_(Job.state == RUNNING, Job.lease_until < func.now())
        job = db.scalar(select(Job).where(or_(Job.state == QUEUED, expired)).order_by(Job.priority, Job.id)
                        .limit(1).with_for_update(skip_locked=True))
        if job is None:
            db.commit()
            return None
        if job.attempts >= attempts:
            _give_up(db, job, f"given up after {job.attempts} attempts: the worker running it stopped each time")
            db.commit()
            continue
        token, attempt = uuid.uuid4().hex, job.attempts + 1
        db.execute(update(Job).where(Job.id == job.id).values(
            state=RUNNING, attempts=Job.attempts + 1, lease_token=token, lease_until=_lease_end(lease_s),
            worker=worker[:120]))
        if job.kind in ANALYSING_KINDS:
            db.execute(update(Study).where(Study.id == job.study_id).values(status=StudyStatus.ANALYSING.value))
        db.commit()
        return Claim(job.id, job.kind, job.study_id, token, attempt, job.requested_by, job.client)


def _give_up(db: Session, job: Job, reason: str) -> None:
    db.execute(update(Job).where(Job.id == job.id).values(state=FAILED, error=reason, lease_token=None,
                                                          lease_until=None, finished_at=func.now()))
    if job.kind == ANALYSE:
        db.execute(update(Study).where(Study.id == job.study_id)
                   .values(status=StudyStatus.FAILED.value, error=f"the analysis was {reason}"))
    elif job.kind == REANALYSE and (study := db.get(Study, job.study_id)) is not None:
        study.status = settled_status(study.result)


def settled_status(result: Mapping[str, Any] | None) -> str:
    """The status of a study that keeps ``result`` (a re-analysis that failed leaves the earlier one): done,
    refused, or failed when it has none."""
    if result is None:
        return StudyStatus.FAILED.value
    return StudyStatus.REFUSED.value if result.get("refused") else StudyStatus.DONE.value


def heartbeat(db: Session, tokens: Collection[str], lease_s: float) -> int:
    """Extend the leases of the running jobs held under ``tokens`` (committed); how many were extended."""
    if not tokens:
        return 0
    extended = _changed(db, update(Job).where(Job.lease_token.in_(list(tokens)), Job.state == RUNNING)
                        .values(lease_until=_lease_end(lease_s)))
    db.commit()
    return extended


def finish(db: Session, held: Claim, error: str | None = None) -> bool:
    """Mark the job done (or failed with ``error``) in the caller's transaction; False when ``held`` is no longer
    the job's lease (it ran out and another worker claimed the job): then roll back."""
    values = {"state": DONE if error is None else FAILED, "error": error, "lease_until": None,
              "finished_at": func.now()}
    return _changed(db, update(Job).where(Job.id == held.job_id, Job.lease_token == held.token, Job.state == RUNNING)
                    .values(**values)) == 1


def _changed(db: Session, statement: Update) -> int:
    """Run an UPDATE; the rows it changed."""
    result = cast(CursorResult[Any], db.execute(statement))
    return int(result.rowcount)


def count_open(db: Session) -> int:
    """Jobs queued or running (what the workers have still to do)."""
    return db.scalar(select(func.count()).select_from(Job).where(Job.state.in_((QUEUED, RUNNING)))) or 0
