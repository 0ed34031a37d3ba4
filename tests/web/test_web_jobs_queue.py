"""The job queue's table on a real PostgreSQL server: claim order, no job claimed twice by concurrent workers, a lease
that runs out goes to another worker (whose completion alone counts), the heartbeat keeps a lease, and a job whose
workers keep dying is given up."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cardioscreen.web import crud
from cardioscreen.web.db import create_db_engine, make_session_factory, migrate
from cardioscreen.web.jobs import queue
from cardioscreen.web.models import Job, Study

from .pgserver import TemporaryPostgres


@pytest.fixture
def factory(postgres: TemporaryPostgres) -> sessionmaker[Session]:
    engine = create_db_engine(postgres.create_database())
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _studies(factory: sessionmaker[Session], n: int) -> list[int]:
    with factory() as db:
        owner = crud.create_user(db, f"p-{uuid.uuid4().hex[:8]}", "correct horse 1")
        ids = [crud.add_study(db, owner, storage_key=uuid.uuid4().hex, original_filename="x.hea", status="queued",
                              result=None, error=None).id for _ in range(n)]
        db.commit()
    return ids


def _enqueue(factory: sessionmaker[Session], kind: str, study_id: int) -> int:
    with factory() as db:
        job_id = queue.enqueue(db, kind, study_id).id
        db.commit()
    return job_id


def _claim(factory: sessionmaker[Session], worker: str, lease_s: float = 30.0, attempts: int = 3,
           ) -> queue.Claim | None:
    with factory() as db:
        return queue.claim(db, worker, lease_s, attempts)


def _finish(factory: sessionmaker[Session], held: queue.Claim) -> bool:
    with factory() as db:
        done = queue.finish(db, held)
        db.commit()
    return done


def _job(factory: sessionmaker[Session], job_id: int) -> Job:
    with factory() as db:
        job = db.get(Job, job_id)
        assert job is not None
        return job


def test_explain_jobs_are_claimed_before_analyses_then_oldest_first(factory) -> None:
    a, b = _studies(factory, 2)
    first, second = _enqueue(factory, queue.ANALYSE, a), _enqueue(factory, queue.ANALYSE, b)
    explain = _enqueue(factory, queue.EXPLAIN, a)
    assert [_claim(factory, "w").job_id for _ in range(3)] == [explain, first, second]
    assert _claim(factory, "w") is None


def test_claiming_an_analysis_marks_its_study_analysing(factory) -> None:
    [study_id] = _studies(factory, 1)
    _enqueue(factory, queue.ANALYSE, study_id)
    held = _claim(factory, "w")
    assert held is not None and (held.kind, held.study_id, held.attempt) == (queue.ANALYSE, study_id, 1)
    with factory() as db:
        assert db.get(Study, study_id).status == "analysing"


def test_concurrent_workers_never_claim_the_same_job(factory) -> None:
    jobs = [_enqueue(factory, queue.ANALYSE, s) for s in _studies(factory, 40)]
    claimed: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (held := _claim(factory, name)) is not None:
            assert _finish(factory, held)
            with lock:
                claimed.append(held.job_id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(jobs)
    assert Counter(_job(factory, j).state for j in jobs) == {"done": 40}
    assert {_job(factory, j).attempts for j in jobs} == {1}


def test_a_lease_that_runs_out_goes_to_another_worker_whose_completion_alone_counts(factory) -> None:
    [study_id] = _studies(factory, 1)
    job_id = _enqueue(factory, queue.ANALYSE, study_id)
    first = _claim(factory, "first", lease_s=0.5)
    assert first is not None and _claim(factory, "second", lease_s=0.5) is None  # held: nothing else to claim
    time.sleep(1.0)
    second = _claim(factory, "second")
    assert second is not None and (second.job_id, second.attempt) == (job_id, 2)
    assert not _finish(factory, first)  # the first worker came back too late: its outcome is dropped
    assert _job(factory, job_id).state == "running"
    assert _finish(factory, second)
    job = _job(factory, job_id)
    assert (job.state, job.attempts, job.worker) == ("done", 2, "second")


def test_the_heartbeat_keeps_a_lease_past_its_length(factory) -> None:
    [study_id] = _studies(factory, 1)
    _enqueue(factory, queue.ANALYSE, study_id)
    held = _claim(factory, "w", lease_s=0.6)
    assert held is not None
    for _ in range(6):
        time.sleep(0.2)
        with factory() as db:
            assert queue.heartbeat(db, {held.token}, 0.6) == 1
    assert _claim(factory, "other", lease_s=0.6) is None
    time.sleep(1.0)  # no more heartbeats: the lease runs out
    assert _claim(factory, "other") is not None


def test_a_job_whose_workers_keep_dying_is_given_up_and_its_study_failed(factory) -> None:
    [study_id] = _studies(factory, 1)
    job_id = _enqueue(factory, queue.ANALYSE, study_id)
    for attempt in (1, 2):
        held = _claim(factory, f"w{attempt}", lease_s=0.3, attempts=2)
        assert held is not None and held.attempt == attempt
        time.sleep(0.5)
    assert _claim(factory, "w3", lease_s=0.3, attempts=2) is None
    job = _job(factory, job_id)
    assert (job.state, job.attempts) == ("failed", 2) and "given up after 2 attempts" in job.error
    with factory() as db:
        study = db.get(Study, study_id)
        assert study.status == "failed" and "given up after 2 attempts" in study.error


def test_an_unknown_job_kind_is_refused(factory) -> None:
    [study_id] = _studies(factory, 1)
    with factory() as db, pytest.raises(ValueError, match="unknown job kind 'render'"):
        queue.enqueue(db, "render", study_id)


def test_a_reanalysis_given_up_leaves_the_study_its_earlier_result(factory) -> None:
    [study_id] = _studies(factory, 1)
    with factory() as db:
        admin = crud.create_user(db, f"a-{uuid.uuid4().hex[:8]}", "correct horse 1", role="admin")
        db.execute(update(Study).where(Study.id == study_id).values(status="queued", result={"refused": True}))
        job_id = queue.enqueue(db, queue.REANALYSE, study_id, requested_by=admin.id, client="10.0.0.7").id
        db.commit()
    job = _job(factory, job_id)
    assert (job.requested_by, job.client, job.priority) == (admin.id, "10.0.0.7", queue.PRIORITY[queue.ANALYSE])
    held = _claim(factory, "w1", lease_s=0.3, attempts=1)
    assert held is not None and held.kind == queue.REANALYSE
    with factory() as db:
        assert db.get(Study, study_id).status == "analysing"
    time.sleep(0.5)
    assert _claim(factory, "w2", lease_s=0.3, attempts=1) is None
    assert _job(factory, job_id).state == "failed"
    with factory() as db:
        study = db.get(Study, study_id)
        assert (study.status, study.result, study.error) == ("refused", {"refused": True}, None)


@pytest.mark.parametrize(("result", "status"), [(None, "failed"), ({"refused": False}, "done"),
                                                ({"refused": True}, "refused")])
def test_the_settled_status_follows_the_result_a_study_keeps(result, status) -> None:
    assert queue.settled_status(result) == status
