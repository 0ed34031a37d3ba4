"""Issue 14, item 7, on a fresh app: every event carries the client's address (conclusions included); opening a
study's page, plot, PDF and files is logged; details read as text, not JSON; the audit page is paged and filtered by
user, action and date, and exported as CSV."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cardioscreen.web.models import AuditEvent, User

from .conftest import AppFactory, add_user
from .support import PASSWORD, Browser, wfdb_files

DOCTOR_PC = ("192.0.2.10", 50000)
INTEGRATION = ("192.0.2.99", 50000)
ROW = 'class="audit-event"'


@dataclass
class Clinic:
    app: FastAPI
    admin: Browser
    studies: tuple[int, int]
    flagged: list[str]


def _study_id(response) -> int:
    assert response.status_code == 200, response.text[:300]
    return int(str(response.url).rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def clinic(make_app: AppFactory, ptbxl_headers: list[Path]) -> Clinic:
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("pat-audit")
    first, second = (_study_id(patient.upload(wfdb_files(h))) for h in ptbxl_headers[:2])
    add_user(app, "dr-audit", "doctor")
    add_user(app, "boss", "admin")
    doctor = Browser(TestClient(app, client=DOCTOR_PC))
    doctor.login("dr-audit")
    page = doctor.client.get(f"/studies/{first}").text
    assert doctor.client.get(f"/studies/{first}/plot.png").status_code == 200
    assert doctor.client.get(f"/studies/{first}/report.pdf").status_code == 200
    stored = re.search(rf'/studies/{first}/files/([^"]+)"', page)
    assert stored and doctor.client.get(f"/studies/{first}/files/{stored.group(1)}").status_code == 200
    flagged = re.findall(r'name="verdict_([^"]+)" value="agree"', page)
    form = {"text": 'Sinus rhythm, "normal" ECG', **{f"verdict_{code}": "agree" for code in flagged}}
    assert doctor.post_form(f"/studies/{first}/conclusion", form, page=f"/studies/{first}").status_code == 200
    api = TestClient(app, client=INTEGRATION)
    token = api.post("/api/token", data={"username": "dr-audit", "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/studies/{second}", headers=auth).status_code == 200
    assert api.post(f"/api/studies/{second}/conclusion", json={"text": "Seen."}, headers=auth).status_code == 201
    admin = Browser(TestClient(app))
    admin.login("boss")
    return Clinic(app, admin, (first, second), flagged)


def _events(app: FastAPI, action: str) -> list[AuditEvent]:
    with app.state.session_factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_conclusions_carry_the_client_address(clinic: Clinic) -> None:
    conclusions = _events(clinic.app, "conclusion")
    assert [(e.subject, e.client) for e in conclusions] == [(f"study:{clinic.studies[0]}", DOCTOR_PC[0]),
                                                            (f"study:{clinic.studies[1]}", INTEGRATION[0])]


def test_views_of_studies_plots_reports_and_files_are_logged(clinic: Clinic) -> None:
    first, second = (f"study:{s}" for s in clinic.studies)
    views = {action: [(e.subject, e.client, e.detail) for e in _events(clinic.app, action)]
             for action in ("study_viewed", "plot_viewed", "report_viewed", "file_downloaded")}
    assert (first, DOCTOR_PC[0], None) in views["study_viewed"]
    assert (second, INTEGRATION[0], None) in views["study_viewed"]
    assert views["plot_viewed"] == [(first, DOCTOR_PC[0], None)]
    assert views["report_viewed"] == [(first, DOCTOR_PC[0], {"language": "en"})]
    [(subject, client, detail)] = views["file_downloaded"]
    assert (subject, client) == (first, DOCTOR_PC[0]) and detail["file"].endswith((".hea", ".dat"))


def test_details_read_as_text(clinic: Clinic) -> None:
    page = clinic.admin.client.get("/admin/audit", params={"action": "conclusion"}).text
    verdicts = ", ".join(f"{code} yes" for code in sorted(clinic.flagged)) or "—"
    assert f"text: Sinus rhythm, &#34;normal&#34; ECG; verdicts: {verdicts}" in page
    assert "{&#34;" not in page and "\\&#34;" not in page


def _add_events(app: FastAPI) -> None:
    with app.state.session_factory() as db:
        db.add_all([AuditEvent(action="probe_a", subject="carol", client="198.51.100.1",
                               created_at=datetime(2026, 1, 5, 12, minute % 60, tzinfo=timezone.utc))
                    for minute in range(60)])
        db.add_all([AuditEvent(action="probe_b", subject="dave", client="198.51.100.2",
                               created_at=datetime(2026, 2, 10, 23, 59, tzinfo=timezone.utc)) for _ in range(70)])
        db.commit()


def test_the_audit_page_is_paged_and_filtered(clinic: Clinic) -> None:
    _add_events(clinic.app)
    admin = clinic.admin.client

    def rows(**params: object) -> int:
        response = admin.get("/admin/audit", params=params)
        assert response.status_code == 200
        return response.text.count(ROW)

    with clinic.app.state.session_factory() as db:
        total = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
        doctor_id = db.scalar(select(User.id).where(User.username == "dr-audit"))
        by_doctor = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.user_id == doctor_id))
    assert total > 200 - 70 and rows() == 50
    pages = -(-total // 50)
    assert rows(page=pages) == total - 50 * (pages - 1) and rows(page=pages + 1) == 0
    assert (rows(action="probe_a"), rows(action="probe_a", page=2)) == (50, 10)
    february = {"since": "2026-02-10", "until": "2026-02-10"}
    assert rows(**february) == 50 and rows(**february, page=2) == 20
    assert rows(since="2026-01-01", until="2026-01-31") == 50 and rows(until="2026-01-05", page=2) == 10
    assert rows(user="carol", page=2) == 10 and rows(user="dr-audit", page=1) == min(50, by_doctor)
    assert admin.get("/admin/audit", params={"since": "5 Jan"}).status_code == 400
    older = re.search(r'rel="next" href="([^"]+)"', admin.get("/admin/audit", params={"action": "probe_b"}).text)
    assert older and older.group(1).replace("&amp;", "&") == "/admin/audit?action=probe_b&page=2"


def test_the_audit_log_exports_as_csv(clinic: Clinic) -> None:
    response = clinic.admin.client.get("/admin/audit.csv", params={"action": "conclusion"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["user"], r["client"]) for r in table] == [("dr-audit", INTEGRATION[0]), ("dr-audit", DOCTOR_PC[0])]
    assert table[1]["detail"].startswith('text: Sinus rhythm, "normal" ECG')
    with clinic.app.state.session_factory() as db:
        db.add(AuditEvent(action="login_failed", subject="=HYPERLINK(\"http://x\")", client="198.51.100.3"))
        db.commit()
    hostile = clinic.admin.client.get("/admin/audit.csv", params={"action": "login_failed"}).text
    assert "'=HYPERLINK" in hostile
    assert clinic.admin.client.get("/admin/audit.csv").text.count("\n") > 130
