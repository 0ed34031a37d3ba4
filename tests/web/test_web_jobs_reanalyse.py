"""An administrator's re-analysis on the job queue (PostgreSQL): queued for a worker, the study showing
queued/analysing meanwhile; the worker's result equals the in-process re-analysis of the same record; the audit event
is written once and what was made from the old result is removed, also when a worker lost the job and came back too
late; a re-analysis that fails leaves the study its earlier result."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from cardioscreen.models.bundle import add_to_manifest, content_hash, default_bundle_path
from cardioscreen.registry import ModelRegistry, registry_dir
from cardioscreen.web.analysis import PipelineAnalysis
from cardioscreen.web.intake import Intake
from cardioscreen.web.jobs import queue
from cardioscreen.web.models import AuditEvent, Role, Study, User
from cardioscreen.web.sandbox import build_sandbox
from cardioscreen.web.storage import RECORD_FILE

from .conftest import AppFactory, add_user
from .jobs_support import jobs_of, serving, wait_done
from .support import PASSWORD, Browser, wfdb_files

LEASE_S = 2.0


@pytest.fixture(scope="module")
def queue_app(make_app: AppFactory) -> FastAPI:
    app = make_app("postgresql", job_queue=True, job_lease_s=LEASE_S)
    add_user(app, "boss", Role.ADMIN.value)
    add_user(app, "dr-re", Role.DOCTOR.value)
    return app


@pytest.fixture(scope="module")
def following(queue_app: FastAPI) -> PipelineAnalysis:
    """The workers' analysis: the registry's active model in the app's data folder (as `cardioscreen worker`)."""
    return PipelineAnalysis(registry_dir=registry_dir(queue_app.state.settings.data_dir))


def _registry(app: FastAPI) -> ModelRegistry:
    return ModelRegistry(registry_dir(app.state.settings.data_dir), app.state.settings.model_bundle)


@pytest.fixture(scope="module")
def candidate(queue_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second version in the app's registry (the shipped network under another manifest), not yet active."""
    bundle = shutil.copytree(default_bundle_path(), tmp_path_factory.mktemp("bundle") / "candidate")
    add_to_manifest(bundle, "note", "the shipped network under another version")
    return _registry(queue_app).add(bundle).version


def _analysed_study(app: FastAPI, browser_for, header: Path, name: str, following, explain) -> tuple[Browser, int]:
    """A patient's upload analysed by a worker, its plot rendered (saliency and plot files made from the result)."""
    patient = browser_for(app)
    assert patient.register(name).status_code == 200
    page = patient.upload(wfdb_files(header))
    assert page.status_code == 200, page.text[:300]
    study_id = int(page.url.path.rsplit("/", 1)[1])
    with serving(app, following, explain):
        assert wait_done(patient, study_id)["status"] == "done"
        assert patient.client.get(f"/studies/{study_id}/plot.png").status_code == 200
    return patient, study_id


def _admin(app: FastAPI, browser_for) -> Browser:
    admin = browser_for(app)
    assert admin.login("boss").status_code == 200
    return admin


def _ask(admin: Browser, study_id: int) -> str:
    """The administrator's re-analysis request; the notice of the page it lands on."""
    page = admin.post_form("/admin/models/reanalyse", {"study_id": str(study_id)}, page="/admin/models")
    assert page.status_code == 200, page.text[:300]
    return page.text


def _study(app: FastAPI, study_id: int) -> Study:
    with app.state.session_factory() as db:
        study = db.get(Study, study_id)
        assert study is not None
        return study


def _reanalysed_events(app: FastAPI, study_id: int) -> list[tuple[AuditEvent, User | None]]:
    """The study's ``study_reanalysed`` audit events, each with its actor."""
    with app.state.session_factory() as db:
        query = select(AuditEvent).where(AuditEvent.action == "study_reanalysed",
                                         AuditEvent.subject == f"study:{study_id}").order_by(AuditEvent.id)
        return [(event, event.actor) for event in db.scalars(query)]


def _derived(app: FastAPI, study: Study) -> list[str]:
    folder = app.state.store.folder(study.storage_key)
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(("plot-", "report-", "saliency")))


def test_a_queued_reanalysis_runs_on_a_worker_and_equals_the_in_process_one(queue_app, browser_for, ptbxl_headers,
                                                                           following, explain, candidate) -> None:
    shipped = content_hash(default_bundle_path())
    patient, study_id = _analysed_study(queue_app, browser_for, ptbxl_headers[3], "re-patient", following, explain)
    doctor = browser_for(queue_app).client
    token = doctor.post("/api/token", data={"username": "dr-re", "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert doctor.post(f"/api/studies/{study_id}/conclusion", json={"text": "Reviewed."}, headers=auth
                       ).status_code == 201
    before = _study(queue_app, study_id)
    assert before.model_version == shipped and _derived(queue_app, before)  # saliency and the plot were made
    _registry(queue_app).promote(candidate)

    admin = _admin(queue_app, browser_for)
    assert f"Study {study_id} queued for re-analysis with the active model" in _ask(admin, study_id)
    assert patient.client.get(f"/api/studies/{study_id}/status").json() == {
        "id": study_id, "status": "queued", "pending": True}
    waiting = _study(queue_app, study_id)
    assert waiting.result == before.result and waiting.model_version == shipped  # the old result until the worker's
    assert "Queued for analysis" in patient.client.get(f"/studies/{study_id}").text
    assert f"Study {study_id} is still being analysed" in _ask(admin, study_id)  # asked twice: one job
    jobs = [(j.kind, j.state) for j in jobs_of(queue_app, study_id)]
    assert jobs == [("analyse", "done"), ("explain", "done"), ("reanalyse", "queued")]
    assert _reanalysed_events(queue_app, study_id) == []
    assert not queue_app.state.sandbox._workers  # the web process analyses nothing itself

    with serving(queue_app, following, explain):
        assert wait_done(patient, study_id)["status"] == "done"
    after = _study(queue_app, study_id)
    reanalyse_job = jobs_of(queue_app, study_id)[-1]
    assert (reanalyse_job.kind, reanalyse_job.state, reanalyse_job.attempts) == ("reanalyse", "done", 1)
    assert after.model_version == after.result["model"]["model_version"] == candidate
    assert doctor.get(f"/api/studies/{study_id}", headers=auth).json()["conclusion"]["model_version"] == shipped
    assert _derived(queue_app, after) == []  # what was made from the old result is gone
    [(event, actor)] = _reanalysed_events(queue_app, study_id)
    assert event.detail == {"previous": shipped, "model_version": candidate}
    assert (actor.username, event.client) == ("boss", "testclient")

    # the same record re-analysed in this process, as a deployment without the queue does it
    sandbox = build_sandbox(queue_app.state.settings, following, explain, size=1)
    try:
        with queue_app.state.session_factory() as db:
            study, boss = db.get(Study, study_id), db.scalar(select(User).where(User.username == "boss"))
            assert study is not None and boss is not None
            outcome = Intake(queue_app.state.store, sandbox, queued=False).reanalyse(db, study, boss)
            in_process = dict(study.result)
    finally:
        sandbox.close()
    assert outcome == "reanalysed"
    assert in_process == after.result
    assert len(_reanalysed_events(queue_app, study_id)) == 2


def test_a_worker_that_lost_the_job_and_came_back_late_changes_nothing(queue_app, browser_for, ptbxl_headers,
                                                                       following, explain) -> None:
    """The first claim's worker stops answering (its lease runs out); another worker re-analyses the study; the
    first comes back and runs the job to the end: its outcome is dropped, the audit event stays one."""
    patient, study_id = _analysed_study(queue_app, browser_for, ptbxl_headers[5], "re-late", following, explain)
    _ask(_admin(queue_app, browser_for), study_id)
    with queue_app.state.session_factory() as db:
        lost = queue.claim(db, "lost-worker", LEASE_S, queue_app.state.settings.job_attempts)
    assert lost is not None and lost.kind == queue.REANALYSE
    assert patient.client.get(f"/api/studies/{study_id}/status").json()["status"] == "analysing"
    time.sleep(LEASE_S + 0.5)
    with serving(queue_app, following, explain) as worker:
        assert wait_done(patient, study_id)["status"] == "done"
        done = _study(queue_app, study_id)
        worker.run_job(lost)  # the late worker: analyses again, then finds its lease gone
    job = jobs_of(queue_app, study_id)[-1]
    assert (job.kind, job.state, job.attempts, job.worker) == ("reanalyse", "done", 2, "test-worker")
    active = _registry(queue_app).active_version
    assert _study(queue_app, study_id).result == done.result and done.model_version == active
    [(event, _)] = _reanalysed_events(queue_app, study_id)
    assert event.detail == {"previous": active, "model_version": active}


def test_a_reanalysis_that_fails_leaves_the_study_its_earlier_result(queue_app, browser_for, ptbxl_headers,
                                                                     following, explain) -> None:
    patient, study_id = _analysed_study(queue_app, browser_for, ptbxl_headers[6], "re-fail", following, explain)
    before = _study(queue_app, study_id)
    _ask(_admin(queue_app, browser_for), study_id)
    (queue_app.state.store.folder(before.storage_key) / RECORD_FILE).unlink()  # the stored record is lost
    with serving(queue_app, following, explain):
        assert wait_done(patient, study_id)["status"] == "done"
    after = _study(queue_app, study_id)
    assert (after.result, after.model_version, after.error) == (before.result, before.model_version, None)
    job = jobs_of(queue_app, study_id)[-1]
    assert (job.kind, job.state) == ("reanalyse", "failed") and "FileNotFoundError" in job.error
    assert _reanalysed_events(queue_app, study_id) == []
