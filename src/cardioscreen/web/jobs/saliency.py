"""A study's saliency maps from the queue's workers: the web process queues an ``explain`` job and waits for it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cardioscreen.errors import CardioScreenError
from cardioscreen.web.jobs import queue
from cardioscreen.web.models import Study
from cardioscreen.web.sandbox import JobFailedError

POLL_S = 0.2
"""How often a waiting request looks at its job."""


@dataclass(frozen=True)
class QueuedSaliency:
    """:class:`~cardioscreen.web.rendering.SaliencySource` of a job queue deployment: a plot or report request queues
    the study's ``explain`` job (or joins the one already open) and waits up to ``wait_s`` for a worker to store
    the maps."""

    session_factory: sessionmaker[Session]
    wait_s: float

    def ensure(self, study: Study) -> None:
        with self.session_factory() as db:
            job = queue.open_job(db, queue.EXPLAIN, study.id) or queue.enqueue(db, queue.EXPLAIN, study.id)
            job_id = job.id
            db.commit()
        deadline = time.monotonic() + self.wait_s
        while True:
            with self.session_factory() as db:
                state, error = queue.job_state(db, job_id)
            if state == queue.DONE:
                return
            if state == queue.FAILED:
                raise CardioScreenError(error or "the saliency could not be computed")
            if time.monotonic() >= deadline:
                raise JobFailedError(f"no worker computed the saliency within {self.wait_s:g} s")
            time.sleep(POLL_S)
