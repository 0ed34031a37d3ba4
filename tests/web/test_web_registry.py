"""The model registry in the running app, on SQLite and PostgreSQL: each study names the model version of its
result; a shadow candidate analyses new uploads unseen and the admin page shows its agreement; a promotion and a
rollback reach new uploads without a restart; an old study is re-analysed only on request, its conclusion keeping
the version it reviewed; every change audited."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.cli import main
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.models.bundle import add_to_manifest, content_hash, default_bundle_path
from cardioscreen.reviews.labels import result_statements
from cardioscreen.web.main import create_app
from cardioscreen.web.models import AuditEvent, ShadowResult, Study
from cardioscreen.web.settings import WebSettings

from .conftest import BACKENDS, add_user
from .support import Browser, wfdb_files
from .test_web_api import _token


@pytest.fixture
def registry_app(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[FastAPI]:
    """An app whose analysis follows the registry in its data folder (the default analysis), on the backend named
    by the test's ``backend`` parameter; the command line sees the same database."""
    backend = request.node.callspec.params["backend"]
    url = request.getfixturevalue("postgres").create_database() if backend == "postgresql" else None
    if url:
        monkeypatch.setenv("CARDIOSCREEN_DATABASE_URL", url)
    app = create_app(WebSettings(data_dir=tmp_path / "app", database_url=url,
                                 session_secret=secrets.token_urlsafe(40), analysis_workers=1))
    yield app
    app.state.sandbox.close()


def _upload(client: TestClient, headers: dict[str, str], header: Path) -> dict:
    response = client.post("/api/studies", files=wfdb_files(header), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("backend", BACKENDS)
def test_registry_in_the_app(backend: str, registry_app: FastAPI, ptbxl_headers: list[Path], shared_data: Path,
                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app, data_dir = registry_app, registry_app.state.settings.data_dir
    for name, role in (("pat", "patient"), ("doc", "doctor"), ("boss", "admin")):
        add_user(app, name, role)
    client = TestClient(app)
    patient, doctor = _token(client, "pat"), _token(client, "doc")
    shipped = content_hash(default_bundle_path())
    candidate_dir = shutil.copytree(default_bundle_path(), tmp_path / "candidate")
    add_to_manifest(candidate_dir, "note", "the shipped network under another version")
    candidate = content_hash(candidate_dir)
    cli = ["--data-dir", str(data_dir)]
    assert main(["models", "add", str(candidate_dir), *cli]) == 0
    assert main(["models", "shadow", candidate, *cli]) == 0

    first = _upload(client, patient, ptbxl_headers[0])
    assert first["model_version"] == shipped == first["result"]["model"]["model_version"]
    flagged = first["flagged_codes"]
    verdicts = {code: True for code in flagged}
    stated = sorted(result_statements(first["result"]) - set(flagged))
    assert stated  # the rhythm at least (a statement that is no flagged class)
    body = {"text": "Reviewed.", "verdicts": verdicts, "added": ["LVH"], "statements": {stated[0]: False},
            "added_statements": ["PVC"]}
    for wrong in ({"statements": {"NOTASTATEMENT": True}}, {"added_statements": ["NOINTERP"]}):
        refused = client.post(f"/api/studies/{first['id']}/conclusion", headers=doctor, json=body | wrong)
        assert refused.status_code == 422 and "not a statement" in refused.text
    concluded = client.post(f"/api/studies/{first['id']}/conclusion", headers=doctor, json=body)
    assert concluded.status_code == 201, concluded.text
    assert concluded.json()["conclusion"]["model_version"] == shipped
    assert concluded.json()["conclusion"]["added"] == ["LVH"]
    assert concluded.json()["conclusion"]["statements"] == {stated[0]: False, "PVC": True}
    with app.state.session_factory() as db:
        shadow = db.scalars(select(ShadowResult)).all()
        assert [(s.study_id, s.model_version) for s in shadow] == [(first["id"], candidate)]
        # the same network flags the same classes
        assert {p["code"] for p in shadow[0].predictions if p["flagged"]} == set(flagged)

    admin = Browser(TestClient(app))
    admin.login("boss")
    page = admin.client.get("/admin/models")
    assert page.status_code == 200 and shipped in page.text and candidate in page.text
    shadow_table = page.text.split('id="shadow"')[1]
    # same flags on 1 of 1 study; the doctors' verdicts: flagged ones confirmed (both right), LVH added (both wrong)
    n = len(flagged) + 1
    assert "1 / 1" in shadow_table and "100.0 %" in shadow_table
    assert f"candidate {len(flagged)} / {n}, active model {len(flagged)} / {n}" in shadow_table

    reference = ["--reference", str(shared_data / "ptbxl-z100"), "--task", "seed17", "--n-boot", "20"]
    assert main(["models", "promote", candidate, *cli, *reference]) == 0
    second = _upload(client, patient, ptbxl_headers[1])
    assert second["model_version"] == candidate  # picked up by the running workers
    with app.state.session_factory() as db:
        assert db.scalars(select(ShadowResult).where(ShadowResult.study_id == second["id"])).all() == []

    done = admin.post_form("/admin/models/reanalyse", {"study_id": str(first["id"])}, page="/admin/models")
    assert done.status_code == 200 and f"Study {first['id']} re-analysed with model {candidate}" in done.text
    again = client.get(f"/api/studies/{first['id']}", headers=doctor).json()
    assert again["model_version"] == candidate and again["conclusion"]["model_version"] == shipped

    export = tmp_path / "export"
    assert main(["reviews", "export", *cli, "--out", str(export)]) == 0
    row = PTBXL.load(export).meta.iloc[0]
    assert row["review_verdicts"] == {**dict.fromkeys(flagged, 1), "LVH": 1, stated[0]: 0, "PVC": 1}
    assert set(row["scp_codes"]) == ({*flagged, "LVH", "PVC"} - {"CD", "HYP", "MI", "STTC"})
    assert row["model_version"] == shipped

    assert main(["models", "rollback", *cli]) == 0
    third = _upload(client, patient, ptbxl_headers[2])
    assert third["model_version"] == shipped
    with app.state.session_factory() as db:
        events = {e.action: e for e in db.scalars(select(AuditEvent))}
        assert events["model_promoted"].subject == candidate and events["model_promoted"].detail["previous"] == shipped
        assert events["model_rolled_back"].subject == shipped
        assert events["model_shadow"].subject == candidate
        assert events["study_reanalysed"].detail == {"previous": shipped, "model_version": candidate}
        assert events["study_reanalysed"].actor.username == "boss"
        assert {s.model_version for s in db.scalars(select(Study))} == {shipped, candidate}
        assert events["conclusion"].detail["statements"] == {stated[0]: False, "PVC": True}
    capsys.readouterr()
