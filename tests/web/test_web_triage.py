"""The device's own statements on the study page, and the studies they (or our findings) make urgent in the queue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import inspect, select

from cardioscreen.io import read_ecg
from cardioscreen.web.db import MIGRATIONS_DIR, migrate
from cardioscreen.web.i18n import STRINGS
from cardioscreen.web.models import Study
from cardioscreen.web.triage import device_alerts

from .conftest import AppFactory, add_user
from .support import Browser, wfdb_files

SIERRA_ACUTE = "philips-sierra/sierra_1.03_129DYPRG.xml"
SIERRA_PLAIN = "philips-sierra/sierra_1.04_ad4d3d80-d165.xml"
MUSE_OLD_INFARCT = "ge-muse/musephi_muse_ecg1.xml"


def _upload(browser: Browser, path: Path) -> int:
    response = browser.upload([("files", (path.name, path.read_bytes()))])
    assert response.status_code == 200, response.text[:500]
    return int(str(response.url).rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def formats(shared_data: Path) -> Path:
    return shared_data / "formats"


@pytest.fixture(scope="module")
def ward(make_app: AppFactory, formats: Path, ptbxl_dir: Path) -> tuple[FastAPI, dict[str, int]]:
    """A patient who uploaded a PTB-XL record first, then three vendor files; a doctor.

    PTB-XL 286 (complete LBBB in sinus rhythm) gets the model's highest probability, 1.0, so it would head a queue
    sorted by probability alone; the Sierra file with the cart's acute MI statement gets 0.4.
    """
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("vera", full_name="Vera V.")
    header = ptbxl_dir / "records500" / "00000" / "00286_hr.hea"
    ids = {"ptbxl": int(str(patient.upload(wfdb_files(header)).url).rsplit("/", 1)[1])}
    for name in (SIERRA_PLAIN, MUSE_OLD_INFARCT, SIERRA_ACUTE):
        ids[name] = _upload(patient, formats / name)
    add_user(app, "dr-house", "doctor")
    return app, ids


class TestDeviceAlerts:
    def test_vendor_statements(self, formats: Path) -> None:
        acute = read_ecg(formats / SIERRA_ACUTE).meta["statements"]
        assert [a["text"] for a in device_alerts(acute)] == [
            "Inferior infarct, acute (LCx) (ST>0.10mV, II III aVF, STd V1-V3)", ">>> Acute MI <<<"]
        assert {a["code"] for a in device_alerts(acute)} == {"acute_mi"}
        # an infarct of undetermined age, a paced rhythm, sinus bradycardia: nothing to alert on
        for name in (SIERRA_PLAIN, MUSE_OLD_INFARCT):
            record = read_ecg(formats / name)
            assert record.meta["statements"] and device_alerts(record.meta["statements"]) == []
            assert device_alerts(record.meta.get("original_statements") or []) == []


class TestDeviceStatementsInTheClinic:
    @pytest.mark.parametrize("lang", ["en", "ru"])
    def test_study_page_shows_the_devices_statements(self, ward: tuple[FastAPI, dict[str, int]], formats: Path,
                                                     lang: str) -> None:
        app, ids = ward
        patient = Browser(TestClient(app))
        patient.login("vera")
        patient.post_form("/language", {"lang": lang, "next": "/studies"}, page="/studies")
        page = patient.client.get(f"/studies/{ids[SIERRA_ACUTE]}").text
        heading = page.index(f"<h2>{escape(STRINGS[lang]['device_interpretation'])}</h2>")
        for statement in read_ecg(formats / SIERRA_ACUTE).meta["statements"]:
            assert page.index(str(escape(statement))) > heading
        assert f'class="mono alert-text">{escape(">>> Acute MI <<<")}</li>' in page
        assert str(escape(STRINGS[lang]["device_interpretation_note"])) in page
        # a record without device statements has no such section
        plain = patient.client.get(f"/studies/{ids['ptbxl']}").text
        assert STRINGS[lang]["device_interpretation"] not in plain

    def test_acute_mi_of_the_device_heads_the_queue(self, ward: tuple[FastAPI, dict[str, int]]) -> None:
        app, ids = ward
        with app.state.session_factory() as db:
            studies = {s.id: s for s in db.scalars(select(Study))}
        acute = studies[ids[SIERRA_ACUTE]]
        assert acute.urgent and [r["source"] for r in acute.urgent_reasons or []][-2:] == ["device", "device"]
        assert not studies[ids[SIERRA_PLAIN]].urgent or all(
            r["source"] == "analysis" for r in studies[ids[SIERRA_PLAIN]].urgent_reasons or [])
        doctor = Browser(TestClient(app))
        doctor.login("dr-house")
        queue = doctor.client.get("/queue").text
        order = [int(i) for i in re.findall(r"<td>(\d+)</td>", queue)]
        urgent = [studies[i].urgent for i in order]
        assert urgent == sorted(urgent, reverse=True) and order.index(ids[SIERRA_ACUTE]) < urgent.count(True)
        assert studies[ids["ptbxl"]].urgency > acute.urgency
        row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", queue, re.S) if f"<td>{ids[SIERRA_ACUTE]}</td>" in r)
        assert row.startswith('<tr class="urgent">') and STRINGS["en"]["urgent"] in row
        assert f"{STRINGS['en']['urgent_device']}: {escape('>>> Acute MI <<<')}" in row
        api = doctor.client.post("/api/token", data={"username": "dr-house", "password": "correct horse 1"}).json()
        listed = doctor.client.get("/api/queue", headers={"Authorization": f"Bearer {api['access_token']}"}).json()[
            "items"]
        first = next(s for s in listed if s["id"] == ids[SIERRA_ACUTE])
        assert first["urgent"] and {"source": "device", "code": "acute_mi", "text": ">>> Acute MI <<<"} in first[
            "urgent_reasons"]


def test_studies_stored_before_the_migration_still_render(make_app: AppFactory, ptbxl_dir: Path) -> None:
    """A study stored under schema 0001 (no urgent flag, no device statements) migrates to head and renders."""
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("olga")
    header = sorted((ptbxl_dir / "records500").rglob("*_hr.hea"))[1]
    study_id = int(str(patient.upload(wfdb_files(header)).url).rsplit("/", 1)[1])
    engine = app.state.session_factory.kw["bind"]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        columns = {c["name"] for c in inspect(connection).get_columns("studies")}
    assert "urgent" not in columns and "device_statements" not in columns
    migrate(engine)
    with app.state.session_factory() as db:
        study = db.get(Study, study_id)
        assert study is not None and study.device_statements is None and study.urgent is False
    page = patient.client.get(f"/studies/{study_id}")
    assert page.status_code == 200 and STRINGS["en"]["device_interpretation"] not in page.text
    add_user(app, "dr-old", "doctor")
    doctor = Browser(TestClient(app))
    doctor.login("dr-old")
    assert f"<td>{study_id}</td>" in doctor.client.get("/queue").text
