"""Issue 14's attacks on a fresh app, each a regression test: ids no row can have, verdicts on classes the model does
not report, uploads carrying files that belong to no ECG record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.web.headers import CONTENT_SECURITY_POLICY
from cardioscreen.web.models import Conclusion, Study

from .conftest import AppFactory, add_user
from .support import PASSWORD, Browser, wfdb_files

HUGE_ID = "99999999999999999999"


@dataclass
class Clinic:
    app: FastAPI
    patient: Browser
    doctor: Browser
    doctor_token: dict[str, str]
    study: int


@pytest.fixture(scope="module")
def clinic(make_app: AppFactory, ptbxl_headers: list[Path]) -> Clinic:
    app = make_app()
    patient, doctor = Browser(TestClient(app)), Browser(TestClient(app))
    patient.register("pat")
    add_user(app, "doc", "doctor")
    doctor.login("doc")
    response = patient.upload(wfdb_files(ptbxl_headers[0]))
    assert response.status_code == 200, response.text
    token = doctor.client.post("/api/token", data={"username": "doc", "password": PASSWORD}).json()["access_token"]
    return Clinic(app, patient, doctor, {"Authorization": f"Bearer {token}"},
                  int(str(response.url).rsplit("/", 1)[1]))


def _secured(response) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


class TestIds:
    def test_a_huge_study_id_is_a_404_with_the_security_headers(self, clinic: Clinic) -> None:
        api = clinic.doctor.client.get(f"/api/studies/{HUGE_ID}", headers=clinic.doctor_token)
        assert api.status_code == 404 and api.json() == {"detail": "study not found"}
        _secured(api)
        for path in (f"/studies/{HUGE_ID}", f"/studies/{HUGE_ID}/plot.png", f"/studies/{HUGE_ID}/report.pdf",
                     f"/studies/-{HUGE_ID}", "/studies/0"):
            page = clinic.doctor.client.get(path)
            assert page.status_code == 404 and "text/html" in page.headers["content-type"], path
            _secured(page)
        assert clinic.doctor.client.get(f"/studies/{clinic.study}").status_code == 200


class TestConclusionVerdicts:
    def test_a_verdict_on_a_class_the_model_does_not_report_is_422(self, clinic: Clinic) -> None:
        response = clinic.doctor.client.post(f"/api/studies/{clinic.study}/conclusion", headers=clinic.doctor_token,
                                             json={"text": "sinus rhythm", "verdicts": {"FAKE": True}})
        assert response.status_code == 422 and "FAKE" in response.json()["detail"]
        with clinic.app.state.session_factory() as db:
            assert db.scalars(select(Conclusion)).all() == []
            study = db.get(Study, clinic.study)
            assert study is not None and not study.reviewed

    def test_a_verdict_on_a_reported_class_is_stored(self, clinic: Clinic) -> None:
        result = clinic.doctor.client.get(f"/api/studies/{clinic.study}", headers=clinic.doctor_token).json()
        code = result["result"]["predictions"][0]["code"]
        response = clinic.doctor.client.post(f"/api/studies/{clinic.study}/conclusion", headers=clinic.doctor_token,
                                             json={"text": "reviewed", "verdicts": {code: False}})
        assert response.status_code == 201 and response.json()["conclusion"]["verdicts"] == {code: False}


class TestUploadFiles:
    def test_files_beside_a_wfdb_record_are_refused_by_name(self, clinic: Clinic, ptbxl_headers: list[Path]) -> None:
        before = clinic.patient.client.get("/api/studies").json()
        files = [*wfdb_files(ptbxl_headers[1]), ("files", ("invoice.pdf.exe", b"MZ\x90\x00")),
                 ("files", ("x.html", b"<script>alert(1)</script>"))]
        response = clinic.patient.upload(files)
        assert response.status_code == 400
        assert "not part of the WFDB record 00002_hr.hea: invoice.pdf.exe, x.html" in response.text
        assert clinic.patient.client.get("/api/studies").json() == before

    def test_two_unrelated_files_are_refused(self, clinic: Clinic, ptbxl_headers: list[Path],
                                            shared_data: Path) -> None:
        dicom = shared_data / "formats" / "dicom" / "ecgtoolkit_example.dcm"
        response = clinic.patient.upload([("files", (dicom.name, dicom.read_bytes())),
                                          ("files", ("notes.txt", b"hello"))])
        assert response.status_code == 400 and "ecgtoolkit_example.dcm, notes.txt" in response.text
