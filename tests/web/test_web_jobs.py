"""Web analysis on the job queue (PostgreSQL): uploads stored and queued, analysed by workers; the study page and API
show queued/analysing until done; a worker killed in the middle of a job leaves it to another, and the study
completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi import FastAPI

from cardioscreen.errors import CardioScreenError
from cardioscreen.web.models import Role

from .conftest import AppFactory, add_user
from .jobs_support import STUDY_TIMEOUT_S, jobs_of, serving, wait_done
from .support import PASSWORD, Browser, wfdb_files

REPO = Path(__file__).resolve().parents[2]
LEASE_S = 2.0


@pytest.fixture(scope="module")
def queue_app(make_app: AppFactory) -> FastAPI:
    app = make_app("postgresql", job_queue=True, job_lease_s=LEASE_S)
    add_user(app, "dr-queue", Role.DOCTOR.value, full_name="Dr Queue")
    return app


def _patient(browser_for, app: FastAPI, name: str) -> Browser:
    browser = browser_for(app)
    assert browser.register(name).status_code == 200
    return browser


def _upload(browser: Browser, files: list) -> int:
    page = browser.upload(files)
    assert page.status_code == 200, page.text[:300]
    return int(page.url.path.rsplit("/", 1)[1])


class TestQueuedUpload:
    def test_an_upload_is_queued_and_its_page_polls_until_a_worker_analyses_it(self, queue_app, browser_for,
                                                                                ptbxl_headers, analyze, explain):
        patient = _patient(browser_for, queue_app, "queued-patient")
        study_id = _upload(patient, wfdb_files(ptbxl_headers[0]))
        page = patient.client.get(f"/studies/{study_id}").text
        assert f'data-status-url="/api/studies/{study_id}/status"' in page
        assert "Queued for analysis" in page and "/static/study-status.js" in page
        assert patient.client.get(f"/api/studies/{study_id}/status").json() == {
            "id": study_id, "status": "queued", "pending": True}
        assert patient.client.get("/static/study-status.js").status_code == 200
        time.sleep(1.0)  # no worker yet: nothing analyses it
        assert patient.client.get(f"/api/studies/{study_id}/status").json()["status"] == "queued"
        with serving(queue_app, analyze, explain):
            progress = wait_done(patient, study_id)
        assert progress == {"id": study_id, "status": "done", "pending": False}
        page = patient.client.get(f"/studies/{study_id}").text
        assert "data-status-url" not in page and "/static/study-status.js" not in page
        study = patient.client.get(f"/api/studies/{study_id}").json()
        assert study["result"]["predictions"] and study["error"] is None
        [job] = jobs_of(queue_app, study_id)
        assert (job.kind, job.state, job.attempts, job.worker) == ("analyse", "done", 1, "test-worker")

    def test_a_queued_study_cannot_be_concluded_until_its_result_is_in(self, queue_app, browser_for, ptbxl_headers):
        patient = _patient(browser_for, queue_app, "early-conclusion-patient")
        study_id = _upload(patient, wfdb_files(ptbxl_headers[0]))
        doctor = browser_for(queue_app).client
        token = doctor.post("/api/token", data={"username": "dr-queue", "password": PASSWORD}).json()["access_token"]
        answer = doctor.post(f"/api/studies/{study_id}/conclusion", json={"text": "Sinus rhythm."},
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 409
        assert "still being analysed" in answer.json()["detail"]
        assert patient.client.get(f"/api/studies/{study_id}/status").json()["status"] == "queued"
        assert doctor.get(f"/api/studies/{study_id}", headers={"Authorization": f"Bearer {token}"}).json()[
            "conclusion"] is None

    def test_the_page_reads_queued_and_analysing_in_russian(self, queue_app, browser_for, ptbxl_headers):
        patient = _patient(browser_for, queue_app, "queued-russian")
        study_id = _upload(patient, wfdb_files(ptbxl_headers[1]))
        patient.post_form("/language", {"lang": "ru", "next": f"/studies/{study_id}"}, page="/studies")
        page = patient.client.get(f"/studies/{study_id}").text
        assert "В очереди на анализ" in page and 'data-label-analysing="Анализируется"' in page

    def test_the_api_answers_an_upload_at_once_with_status_queued(self, queue_app, browser_for, ptbxl_headers,
                                                                   analyze, explain):
        patient = _patient(browser_for, queue_app, "queued-api")
        token = patient.client.post("/api/token", data={"username": "queued-api", "password": "correct horse 1"})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = patient.client.post("/api/studies", files=wfdb_files(ptbxl_headers[2]), headers=auth)
        assert answer.status_code == 201
        assert (answer.json()["status"], answer.json()["result"]) == ("queued", None)
        with serving(queue_app, analyze, explain):
            wait_done(patient, answer.json()["id"])
        assert patient.client.get(f"/api/studies/{answer.json()['id']}", headers=auth).json()["status"] == "done"

    def test_a_file_that_is_no_ecg_becomes_a_failed_study_with_the_reason(self, queue_app, browser_for, tmp_path,
                                                                        analyze, explain):
        patient = _patient(browser_for, queue_app, "queued-junk")
        study_id = _upload(patient, [("files", ("notes.txt", b"this is not an ECG at all\n" * 20))])
        with serving(queue_app, analyze, explain):
            progress = wait_done(patient, study_id)
        assert progress["status"] == "failed"
        study = patient.client.get(f"/api/studies/{study_id}").json()
        assert "notes.txt" in study["error"] and study["result"] is None
        assert "Analysis failed" in patient.client.get(f"/studies/{study_id}").text

    def test_an_empty_upload_is_refused_at_once_and_nothing_queued(self, queue_app, browser_for):
        patient = _patient(browser_for, queue_app, "queued-empty")
        page = patient.upload([("files", ("empty.hea", b""))])
        assert page.status_code == 400 and "empty" in page.text
        assert patient.client.get("/api/studies").json() == []

    def test_the_plot_waits_for_a_worker_to_compute_the_saliency(self, queue_app, browser_for, ptbxl_headers,
                                                                  analyze, explain):
        patient = _patient(browser_for, queue_app, "queued-plot")
        study_id = _upload(patient, wfdb_files(ptbxl_headers[3]))
        with serving(queue_app, analyze, explain):
            wait_done(patient, study_id)
            study = patient.client.get(f"/api/studies/{study_id}").json()
            assert any(p["flagged"] for p in study["result"]["predictions"])
            plot = patient.client.get(f"/studies/{study_id}/plot.png")
        assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")
        kinds = [(job.kind, job.state) for job in jobs_of(queue_app, study_id)]
        assert kinds == [("analyse", "done"), ("explain", "done")]
        assert queue_app.state.store.has_saliency(_storage_key(queue_app, study_id))
        assert not queue_app.state.sandbox._workers  # the web process analysed nothing itself


def _storage_key(app: FastAPI, study_id: int) -> str:
    from cardioscreen.web import crud

    with app.state.session_factory() as db:
        study = crud.get_study(db, study_id)
        assert study is not None
        return study.storage_key


def test_sqlite_refuses_the_job_queue(make_app: AppFactory) -> None:
    with pytest.raises(CardioScreenError, match="CARDIOSCREEN_JOB_QUEUE needs PostgreSQL"):
        make_app("sqlite", job_queue=True)


def test_cardioscreen_worker_on_sqlite_is_a_one_line_error(tmp_path: Path) -> None:
    env = {**os.environ, "CARDIOSCREEN_DATA_DIR": str(tmp_path)}
    env.pop("CARDIOSCREEN_DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "cardioscreen.cli", "worker"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "cardioscreen worker: error: the job queue needs PostgreSQL: set CARDIOSCREEN_DATABASE_URL (with SQLite the "
        "web app analyses each upload itself)"]


def _worker_env(app: FastAPI) -> dict[str, str]:
    settings = app.state.settings
    return {**os.environ, "CARDIOSCREEN_DATABASE_URL": settings.database_url,
            "CARDIOSCREEN_DATA_DIR": str(settings.data_dir), "CARDIOSCREEN_JOB_LEASE_S": str(LEASE_S),
            "CARDIOSCREEN_ANALYSIS_WORKERS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


GATED_WORKER = ("import sys; from pathlib import Path; from cardioscreen.web.jobs.worker import run_worker; "
                "from cardioscreen.web.settings import WebSettings; from tests.web.jobs_support import GatedAnalysis; "
                "run_worker(WebSettings(), analyze=GatedAnalysis(Path(sys.argv[1])))")


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, f"the worker exited with status {process.returncode}"
        assert time.monotonic() < deadline, f"{path.name} did not appear in {timeout_s:g} s"
        time.sleep(0.05)


def test_a_worker_killed_mid_job_leaves_it_to_another_and_the_study_completes(make_app: AppFactory, browser_for,
                                                                              ptbxl_headers, tmp_path: Path,
                                                                              analyze) -> None:
    """The first worker (its analysis held at a gate) is killed with its sandbox, like a lost machine, while it
    analyses; `cardioscreen worker` claims the job when the lease runs out and completes the study, which equals the
    analysis of the same record in this process."""
    app = make_app("postgresql", job_queue=True, job_lease_s=LEASE_S)
    patient = _patient(browser_for, app, "killed-worker")
    study_id = _upload(patient, wfdb_files(ptbxl_headers[4]))
    gate = tmp_path / "gate"
    gate.mkdir()
    first = subprocess.Popen([sys.executable, "-c", GATED_WORKER, str(gate)], cwd=REPO, env=_worker_env(app),
                             start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(gate / "started", first, STUDY_TIMEOUT_S)
        [job] = jobs_of(app, study_id)
        assert (job.state, job.attempts, job.worker.rsplit(":", 1)[1]) == ("running", 1, str(first.pid))
        assert patient.client.get(f"/api/studies/{study_id}/status").json()["status"] == "analysing"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    second = subprocess.Popen([sys.executable, "-m", "cardioscreen.cli", "worker", "--concurrency", "1"], cwd=REPO,
                              env=_worker_env(app), start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        progress = wait_done(patient, study_id)
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr
    assert progress["status"] == "done"
    [job] = jobs_of(app, study_id)
    assert (job.state, job.attempts, job.worker.rsplit(":", 1)[1]) == ("done", 2, str(second.pid))
    stored = patient.client.get(f"/api/studies/{study_id}").json()["result"]
    from cardioscreen.io import read_ecg

    assert stored == analyze(read_ecg(ptbxl_headers[4])).to_dict() | {"record": stored["record"]}
