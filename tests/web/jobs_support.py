"""Helpers of the job queue tests: a worker serving an app's queue in a thread, waiting for a study, and an analysis
that waits at a gate (so that a worker can be killed in the middle of a job)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from cardioscreen.record import ECGRecord
from cardioscreen.result import AnalysisResult
from cardioscreen.web.analysis import AnalyzeFn, PipelineAnalysis
from cardioscreen.web.jobs.worker import Worker
from cardioscreen.web.models import Job
from cardioscreen.web.sandbox import build_sandbox

from .support import Browser

STUDY_TIMEOUT_S = 240.0


@contextmanager
def serving(app: FastAPI, analyze: AnalyzeFn, explain: AnalyzeFn, size: int = 1) -> Iterator[Worker]:
    """A queue worker for ``app``'s deployment, running in a thread of this process until the block ends."""
    sandbox = build_sandbox(app.state.settings, analyze, explain, size=size)
    worker = Worker(app.state.settings, app.state.session_factory, sandbox, name="test-worker")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(timeout=STUDY_TIMEOUT_S)
        sandbox.close()


def wait_done(browser: Browser, study_id: int, timeout_s: float = STUDY_TIMEOUT_S) -> dict[str, Any]:
    """Poll the study's status endpoint until it is no longer pending; its last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = browser.client.get(f"/api/studies/{study_id}/status")
        assert answer.status_code == 200, answer.text
        progress: dict[str, Any] = answer.json()
        if not progress["pending"]:
            return progress
        assert time.monotonic() < deadline, f"study {study_id} still {progress['status']} after {timeout_s:g} s"
        time.sleep(0.2)


def jobs_of(app: FastAPI, study_id: int) -> list[Job]:
    with app.state.session_factory() as db:
        return list(db.scalars(select(Job).where(Job.study_id == study_id).order_by(Job.id)))


class GatedAnalysis(PipelineAnalysis):
    """The pipeline's analysis that first touches ``gate/started`` and waits until ``gate/open`` exists."""

    def __init__(self, gate: Path, **settings: Any) -> None:
        super().__init__(**settings)
        self.gate = gate

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "gate": self.gate}

    def __call__(self, record: ECGRecord) -> AnalysisResult:
        (self.gate / "started").touch()
        while not (self.gate / "open").exists():
            time.sleep(0.05)
        return super().__call__(record)
