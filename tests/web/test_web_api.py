"""The JSON API end to end on SQLite and PostgreSQL: tokens, upload with the real analysis, queue, conclusion."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.web.models import AuditEvent

from .conftest import BACKENDS, AppFactory, add_user
from .support import PASSWORD


def _token(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_api_workflow(backend: str, make_app: AppFactory, ptbxl_headers: list[Path]) -> None:
    app = make_app(backend)
    client = TestClient(app)
    for name, role in (("pat", "patient"), ("doc", "doctor"), ("boss", "admin")):
        add_user(app, name, role)
    patient, doctor, admin = _token(client, "pat"), _token(client, "doc"), _token(client, "boss")
    assert client.get("/api/me", headers=patient).json()["role"] == "patient"

    header = ptbxl_headers[3]
    files = [("files", (p.name, p.read_bytes())) for p in (header, header.with_suffix(".dat"))]
    created = client.post("/api/studies", files=files, headers=patient)
    assert created.status_code == 201, created.text
    study = created.json()
    # a clean PTB-XL recording is analysed, not refused: 22 class scores, at least one class flagged
    assert study["status"] == "done" and study["original_filename"] == header.name
    assert set(study["result"]) >= {"record", "quality", "intervals", "predictions", "model"}
    assert len(study["result"]["predictions"]) == 22
    by_probability = sorted(study["result"]["predictions"], key=lambda p: -p["probability"])
    flagged = list(dict.fromkeys(p["code"] for p in by_probability if p["flagged"]))
    assert flagged and study["flagged_codes"] == flagged
    assert client.post("/api/studies", files=files, headers=doctor).status_code == 403

    queue = client.get("/api/queue", headers=doctor).json()["items"]
    assert [s["id"] for s in queue] == [study["id"]]
    verdicts = {code: i % 2 == 0 for i, code in enumerate(flagged)}
    concluded = client.post(f"/api/studies/{study['id']}/conclusion", json={"text": "Sinus rhythm.",
                                                                              "verdicts": verdicts}, headers=doctor)
    assert concluded.status_code == 201, concluded.text
    assert concluded.json()["reviewed"] is True
    assert client.get("/api/queue", headers=doctor).json()["items"] == []
    again = client.post(f"/api/studies/{study['id']}/conclusion", json={"text": "twice"}, headers=doctor)
    assert again.status_code == 409

    seen = client.get(f"/api/studies/{study['id']}", headers=patient).json()
    assert seen["conclusion"]["text"] == "Sinus rhythm." and seen["conclusion"]["doctor"] == "doc"
    assert seen["conclusion"]["verdicts"] == verdicts
    with app.state.session_factory() as db:
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "conclusion"))
        assert event is not None and event.subject == f"study:{study['id']}" and event.actor.username == "doc"

    boss_id = client.get("/api/me", headers=admin).json()["id"]
    assert client.patch(f"/api/users/{boss_id}", json={"role": "doctor"}, headers=admin).status_code == 400
    made = client.post("/api/users", json={"username": "doc2", "password": PASSWORD, "role": "doctor"},
                       headers=admin)
    assert made.status_code == 201 and made.json()["role"] == "doctor"
    duplicate = client.post("/api/users", json={"username": "DOC2", "password": PASSWORD}, headers=admin)
    assert duplicate.status_code == 409
    reset = client.patch(f"/api/users/{made.json()['id']}", json={"password": "a brand new one"}, headers=admin)
    assert reset.status_code == 200
    assert client.post("/api/token", data={"username": "doc2", "password": PASSWORD}).status_code == 401
    with app.state.session_factory() as db:
        details = [e.detail for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "user_updated"))]
        assert details == [{"password_reset": True}]
    doc2 = _token(client, "doc2", "a brand new one")
    assert client.patch(f"/api/users/{made.json()['id']}", json={"is_active": False}, headers=admin).status_code == 200
    assert client.get("/api/me", headers=doc2).status_code == 401


def test_openapi_describes_the_api(make_app: AppFactory) -> None:
    schema = TestClient(make_app()).get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/token", "/api/studies", "/api/studies/{study_id}", "/api/queue",
                 "/api/studies/{study_id}/conclusion", "/api/users"):
        assert path in paths, path
    assert not any(p.startswith(("/login", "/admin")) for p in paths)


@pytest.mark.parametrize("name", ["dicom/ecgtoolkit_example.dcm", "philips-sierra/sierra_1.04_ad4d3d80-d165.xml"])
def test_clinical_format_upload_gets_a_result(name: str, make_app: AppFactory, shared_data: Path) -> None:
    """A cart's own export (DICOM, Philips Sierra XML) uploads like any other file and is analysed."""
    app = make_app("sqlite")
    client = TestClient(app)
    add_user(app, f"cart_{Path(name).stem[:8]}", "patient")
    patient = _token(client, f"cart_{Path(name).stem[:8]}")
    path = shared_data / "formats" / name
    created = client.post("/api/studies", files=[("files", (path.name, path.read_bytes()))], headers=patient)
    assert created.status_code == 201, created.text
    study = created.json()
    assert study["status"] == "done", study
    assert len(study["result"]["predictions"]) == 22
    assert study["result"]["intervals"]["hr_bpm"] is not None
