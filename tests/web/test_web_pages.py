"""The server-rendered pages: patient and doctor flows through the forms, languages, failures kept visible."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from cardioscreen.report.descriptions import describe
from cardioscreen.web.analysis import PipelineAnalysis
from cardioscreen.web.i18n import STRINGS
from cardioscreen.web.models import Study, User
from cardioscreen.web.routes.studies import INTERVAL_FIELDS

from .conftest import AppFactory, add_user
from .support import Browser, wfdb_files

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "cardioscreen" / "web" / "templates"


def _study_id(response: object) -> int:
    return int(str(response.url).rsplit("/", 1)[1])  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def clinic(make_app: AppFactory, ptbxl_headers: list[Path]) -> tuple[FastAPI, list[int]]:
    """A patient with three real studies, and a doctor."""
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("paula", full_name="Paula P.")
    ids = [_study_id(patient.upload(wfdb_files(h))) for h in ptbxl_headers[4:7]]
    add_user(app, "dr-who", "doctor", full_name="Dr Who")
    return app, ids


class TestStudyPages:
    def test_patient_sees_the_result(self, clinic: tuple[FastAPI, list[int]]) -> None:
        app, ids = clinic
        patient = Browser(TestClient(app))
        patient.login("paula")
        listing = patient.client.get("/studies").text
        assert all(f'href="/studies/{i}"' in listing for i in ids)
        with app.state.session_factory() as db:
            study = db.get(Study, ids[0])
            assert study is not None and study.result is not None and study.status == "done"
            predictions = study.result["predictions"]
            intervals = study.result["intervals"]
        # a clean PTB-XL recording: the doctor sees all 22 scores and the flagged ones described; the patient the
        # findings in plain words, without scores or thresholds
        assert len(predictions) == 22 and any(p["flagged"] for p in predictions)
        doctor = Browser(TestClient(app))
        doctor.login("dr-who")
        for_doctor = doctor.client.get(f"/studies/{ids[0]}").text
        rows = re.findall(r'<td class="mono"><strong>([^<]+)</strong></td>(.*?)</tr>', for_doctor, re.S)
        assert sorted(code for code, _ in rows) == sorted(p["code"] for p in predictions)
        for p in predictions:  # a class not assessed: its caveat, never a score
            shown = [f"{p['probability'] * 100:.1f}%</span>" in row for code, row in rows if code == p["code"]]
            assert any(shown) == p["assessed"]
        flagged = {p["code"] for p in predictions if p["flagged"]}
        for code in flagged:
            name, description = describe(code, "en")
            assert escape(name) in for_doctor and escape(description[:40]) in for_doctor
        page = patient.client.get(f"/studies/{ids[0]}").text
        assert f'src="/studies/{ids[0]}/plot.png"' in page
        assert '<table class="table predictions">' not in page and escape(STRINGS["en"]["threshold"]) not in page
        for code in flagged - {"NORM"}:
            name, description = describe(code, "en")
            assert f"<strong>{escape(name)}</strong>" in page and escape(description[:40]) in page
        if flagged == {"NORM"}:
            assert escape(STRINGS["en"]["finding_normal"]) in page
        plot = patient.client.get(f"/studies/{ids[0]}/plot.png")
        assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")
        report = patient.client.get(f"/studies/{ids[0]}/report.pdf")
        assert report.status_code == 200 and report.content.startswith(b"%PDF")
        # the measured intervals, with their units
        for key, unit in (("hr_bpm", "unit_bpm"), ("qrs_ms", "unit_ms"), ("qt_ms", "unit_ms")):
            label, shown = escape(STRINGS["en"][key]), f'{intervals[key]:.0f} {STRINGS["en"][unit]}'
            row = f'<tr><th>{label}</th><td class="mono">{shown}'
            assert row in page, row

    def test_queue_is_sorted_by_urgency_and_conclusion_reaches_the_patient(
        self, clinic: tuple[FastAPI, list[int]]
    ) -> None:
        app, ids = clinic
        doctor = Browser(TestClient(app))
        doctor.login("dr-who")
        queue = doctor.client.get("/queue").text
        order = [int(i) for i in re.findall(r"<td>(\d+)</td>", queue)]
        with app.state.session_factory() as db:
            urgency = {s.id: s.urgency for s in db.scalars(select(Study))}
        assert sorted(order) == sorted(ids)
        assert [urgency[i] for i in order] == sorted((urgency[i] for i in order), reverse=True)

        target = order[0]
        page = doctor.client.get(f"/studies/{target}").text
        assert "Paula P." in page and all((f'href="/studies/{i}"' in page) is (i < target) for i in ids if i != target)
        flagged = re.findall(r'name="verdict_([^"]+)" value="agree"', page)
        form = {"text": "Left bundle branch block <confirmed>.", **{f"verdict_{c}": "agree" for c in flagged}}
        saved = doctor.post_form(f"/studies/{target}/conclusion", form, page=f"/studies/{target}")
        assert saved.status_code == 200 and str(saved.url).endswith("/queue")
        assert f"<td>{target}</td>" not in saved.text

        patient = Browser(TestClient(app))
        patient.login("paula")
        seen = patient.client.get(f"/studies/{target}").text
        assert "Left bundle branch block &lt;confirmed&gt;." in seen and "Dr Who" in seen
        again = doctor.post_form(f"/studies/{target}/conclusion", {"text": "second"}, page="/queue")
        assert again.status_code == 400


class TestLanguages:
    def test_tables_have_the_same_keys_and_cover_the_templates(self) -> None:
        assert set(STRINGS["en"]) == set(STRINGS["ru"])
        used = set()
        for template in TEMPLATES.glob("*.html"):
            used |= set(re.findall(r'\bt\("([a-z_]*[a-z])"', template.read_text()))
        assert used and used <= set(STRINGS["en"])
        assert set(INTERVAL_FIELDS) <= set(STRINGS["en"])

    def test_switch_is_stored_per_user(self, make_app: AppFactory) -> None:
        app = make_app()
        browser = Browser(TestClient(app))
        browser.register("ivan")
        browser.post_form("/language", {"lang": "ru", "next": "/studies"}, page="/studies")
        assert STRINGS["ru"]["my_studies"] in browser.client.get("/studies").text
        with app.state.session_factory() as db:
            assert db.scalar(select(User.language).where(User.username == "ivan")) == "ru"
        other = Browser(TestClient(app))
        other.login("ivan")
        assert STRINGS["ru"]["upload_title"] in other.client.get("/studies").text


def test_failed_analysis_keeps_the_upload_and_shows_the_error(make_app: AppFactory, ptbxl_headers: list[Path],
                                                             tmp_path: Path) -> None:
    """The analysis fails in its worker (the configured model folder is not a bundle): the study is kept."""
    app = make_app(analysis=PipelineAnalysis(tmp_path))
    patient = Browser(TestClient(app))
    patient.register("fay")
    response = patient.upload(wfdb_files(ptbxl_headers[0]))
    assert response.status_code == 200
    assert "is not a model bundle: manifest.json is missing" in response.text
    assert STRINGS["en"]["analysis_error"] in response.text
    study_id = _study_id(response)
    stored = patient.client.get(f"/studies/{study_id}/files/{ptbxl_headers[0].with_suffix('.dat').name}")
    assert stored.content == ptbxl_headers[0].with_suffix(".dat").read_bytes()
    add_user(app, "doc", "doctor")
    doctor = Browser(TestClient(app))
    doctor.login("doc")
    assert f'href="/studies/{study_id}"' in doctor.client.get("/queue").text
