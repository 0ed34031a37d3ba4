"""Security of the web app, on SQLite and on a real PostgreSQL server: access control, CSRF, injection, passwords,
upload limits, login rate limiting, cookie flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from cardioscreen.io import read_ecg, write_ecg
from cardioscreen.web.models import Study, User

from .conftest import BACKENDS, AppFactory, add_user
from .support import PASSWORD, Browser, wfdb_files

INJECTION = "x'); DROP TABLE users; -- \" OR 1=1 <script>alert('pwn')</script>"


@dataclass
class World:
    app: FastAPI
    alice: Browser
    bob: Browser
    doctor: Browser
    admin: Browser
    alice_study: int
    bob_token: str


def _count_studies(app: FastAPI) -> int:
    with app.state.session_factory() as db:
        return len(db.scalars(select(Study)).all())


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, make_app: AppFactory, ptbxl_headers: list[Path]) -> World:
    app = make_app(request.param)
    browsers = {name: Browser(TestClient(app)) for name in ("alice", "bob", "doctor", "admin")}
    for name in ("alice", "bob"):
        assert browsers[name].register(name).status_code == 200
    add_user(app, "doctor", "doctor")
    add_user(app, "admin2", "admin")
    browsers["doctor"].login("doctor")
    browsers["admin"].login("admin2")
    response = browsers["alice"].upload(wfdb_files(ptbxl_headers[0]))
    assert response.status_code == 200, response.text
    alice_study = int(str(response.url).rsplit("/", 1)[1])
    token = browsers["bob"].client.post("/api/token", data={"username": "bob", "password": PASSWORD}).json()
    return World(app, **browsers, alice_study=alice_study, bob_token=token["access_token"])


def world_file(world: World) -> str:
    """The name of a stored file of Alice's study, as linked from her study page."""
    page = world.alice.client.get(f"/studies/{world.alice_study}").text
    match = re.search(rf'/studies/{world.alice_study}/files/([^"]+)"', page)
    assert match
    return match.group(1)


class TestAccessControl:
    def test_other_patient_gets_404_on_every_study_url(self, world: World) -> None:
        sid = world.alice_study
        stored_file = world_file(world)
        assert world.alice.client.get(f"/studies/{sid}/files/{stored_file}").status_code == 200
        for path in (f"/studies/{sid}", f"/studies/{sid}/plot.png", f"/studies/{sid}/report.pdf",
                     f"/studies/{sid}/files/{stored_file}"):
            assert world.bob.client.get(path).status_code == 404, path
        api = world.bob.client.get(f"/api/studies/{sid}", headers={"Authorization": f"Bearer {world.bob_token}"})
        assert api.status_code == 404
        listed = world.bob.client.get("/api/studies", headers={"Authorization": f"Bearer {world.bob_token}"})
        assert listed.status_code == 200 and listed.json() == []

    def test_patient_gets_403_on_doctor_and_admin_pages(self, world: World) -> None:
        for path in ("/queue", "/admin/users", "/admin/audit"):
            assert world.bob.client.get(path).status_code == 403, path
        conclude = world.bob.post_form(f"/studies/{world.alice_study}/conclusion", {"text": "fine"}, page="/studies")
        assert conclude.status_code == 403
        create = world.bob.post_form("/admin/users", {"username": "evil", "password": PASSWORD, "role": "admin"},
                                     page="/studies")
        assert create.status_code == 403
        auth = {"Authorization": f"Bearer {world.bob_token}"}
        assert world.bob.client.get("/api/queue", headers=auth).status_code == 403
        assert world.bob.client.get("/api/users", headers=auth).status_code == 403
        body = {"username": "evil2", "password": PASSWORD, "role": "admin"}
        assert world.bob.client.post("/api/users", json=body, headers=auth).status_code == 403
        with world.app.state.session_factory() as db:
            assert db.scalar(select(User).where(User.username.in_(["evil", "evil2"]))) is None

    def test_roles_stay_in_their_lane(self, world: World) -> None:
        assert world.doctor.client.get("/admin/users").status_code == 403
        assert world.admin.client.get("/queue").status_code == 403
        assert world.admin.client.get(f"/studies/{world.alice_study}").status_code == 404
        assert world.doctor.client.get(f"/studies/{world.alice_study}").status_code == 200

    def test_anonymous_is_sent_to_sign_in(self, world: World) -> None:
        anonymous = TestClient(world.app)
        response = anonymous.get(f"/studies/{world.alice_study}", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next=%2Fstudies%2F{world.alice_study}"
        assert anonymous.get("/api/studies").status_code == 401
        assert anonymous.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401

    def test_self_registration_creates_patients_only(self, world: World) -> None:
        client = Browser(TestClient(world.app))
        client.post_form("/register", {"username": "mallory", "password": PASSWORD, "role": "doctor"})
        with world.app.state.session_factory() as db:
            assert db.scalar(select(User.role).where(User.username == "mallory")) == "patient"


class TestCSRF:
    def test_form_without_token_is_rejected_and_changes_nothing(self, world: World) -> None:
        for data in ({}, {"csrf_token": "forged"}):
            response = world.admin.client.post("/admin/users", data={"username": "ghost", "password": PASSWORD,
                                                                      "role": "doctor", **data})
            assert response.status_code == 403
        with world.app.state.session_factory() as db:
            assert db.scalar(select(User).where(User.username == "ghost")) is None

    def test_login_and_upload_need_the_token(self, world: World, ptbxl_headers: list[Path]) -> None:
        fresh = TestClient(world.app)
        assert fresh.post("/login", data={"username": "bob", "password": PASSWORD}).status_code == 403
        before = _count_studies(world.app)
        assert world.bob.client.post("/studies", files=wfdb_files(ptbxl_headers[1])).status_code == 403
        assert _count_studies(world.app) == before

    def test_api_with_session_cookie_needs_the_csrf_header(self, world: World) -> None:
        body = {"text": "cookie-only attempt"}
        response = world.doctor.client.post(f"/api/studies/{world.alice_study}/conclusion", json=body)
        assert response.status_code == 403


class TestInjectionAndEscaping:
    def test_hostile_strings_are_stored_and_shown_literally(self, world: World) -> None:
        hostile = Browser(TestClient(world.app))
        assert hostile.register(INJECTION, full_name=INJECTION).status_code == 200
        page = world.admin.client.get("/admin/users").text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#39;pwn&#39;)&lt;/script&gt;" in page
        with world.app.state.session_factory() as db:
            user = db.scalar(select(User).where(User.full_name == INJECTION))
            assert user is not None and user.username == INJECTION.lower()
            assert db.execute(text("SELECT count(*) FROM users")).scalar_one() >= 5
        login = Browser(TestClient(world.app)).login("' OR '1'='1", password="' OR '1'='1")
        assert login.status_code == 401

    def test_admin_form_fields_are_escaped(self, world: World) -> None:
        world.admin.post_form("/admin/users", {"username": "sqli-doc", "full_name": INJECTION,
                                               "password": PASSWORD, "role": "doctor"}, page="/admin/users")
        page = world.admin.client.get("/admin/users").text
        assert "<script>alert" not in page and "&lt;script&gt;" in page


    def test_every_other_form_field(self, world: World, tmp_path: Path, ptbxl_headers: list[Path]) -> None:
        """Hostile values in the remaining fields are refused or stored literally; never executed or echoed raw."""
        stranger = Browser(TestClient(world.app))
        responses = [
            stranger.post_form("/register", {"username": "lang-probe", "password": PASSWORD, "language": INJECTION}),
            stranger.login(INJECTION, password=INJECTION),
            world.admin.post_form("/admin/users", {"username": "role-probe", "password": PASSWORD, "role": INJECTION,
                                                   "language": INJECTION}, page="/admin/users"),
            world.bob.post_form("/language", {"lang": INJECTION, "next": INJECTION}, page="/studies"),
        ]
        for response in responses:
            assert "<script>alert" not in response.text
        assert stranger.register("pw-probe", password=INJECTION).status_code == 200
        assert Browser(TestClient(world.app)).login("pw-probe", password=INJECTION).status_code == 200

        edf = write_ecg(read_ecg(ptbxl_headers[5]), tmp_path / "probe.edf")
        uploaded = world.alice.upload([("files", (f"{INJECTION}.edf", edf.read_bytes()))])
        assert uploaded.status_code == 200 and "<script>alert" not in uploaded.text
        study_id = int(str(uploaded.url).rsplit("/", 1)[1])
        text_in = f"{INJECTION} conclusion"
        page = f"/studies/{study_id}"
        refused = world.doctor.post_form(f"{page}/conclusion", {"text": text_in, "verdict_NORM": INJECTION}, page=page)
        assert refused.status_code == 400 and "<script>alert" not in refused.text  # a verdict per flagged class
        with world.app.state.session_factory() as db:
            result = db.get(Study, study_id).result
        flagged = {p["code"] for p in result["predictions"] if p["flagged"]}
        concluded = world.doctor.post_form(f"{page}/conclusion", {
            "text": text_in, **{f"verdict_{code}": "agree" for code in flagged}, "added": INJECTION}, page=page)
        assert concluded.status_code == 200
        shown = world.alice.client.get(page).text
        assert "<script>alert" not in shown and "&lt;script&gt;alert(&#39;pwn&#39;)&lt;/script&gt; conclusion" in shown
        with world.app.state.session_factory() as db:
            study = db.get(Study, study_id)
            assert study is not None and study.conclusion is not None and study.conclusion.text == text_in
            stored = {(v.code, v.agree, v.added) for v in study.conclusion.verdicts}
            assert stored == {(code, True, False) for code in flagged}
            assert db.scalar(select(User.language).where(User.username == "pw-probe")) == "en"
            assert db.scalar(select(User).where(User.username.in_(["lang-probe", "role-probe"]))) is None
            assert db.execute(text("SELECT count(*) FROM studies")).scalar_one() >= 2


class TestPasswords:
    def test_only_argon2_hashes_are_stored(self, world: World) -> None:
        with world.app.state.session_factory() as db:
            rows = db.execute(text("SELECT username, password_hash FROM users")).all()
            dump = " ".join(str(v) for row in db.execute(text("SELECT * FROM users")).all() for v in row)
        assert rows and all(h.startswith("$argon2id$") for _, h in rows)
        assert PASSWORD not in dump


class TestUploadsRefused:
    def _state(self, world: World) -> tuple[int, list[str], list[str]]:
        settings = world.app.state.settings
        return (_count_studies(world.app), sorted(p.name for p in settings.studies_dir.iterdir()),
                sorted(p.name for p in settings.staging_dir.iterdir()))

    def test_empty_malformed_and_missing_files(self, world: World, ptbxl_headers: list[Path]) -> None:
        before = self._state(world)
        header = ptbxl_headers[2]
        cases = {
            "empty": [("files", ("empty.hea", b""))],
            "could not be read": [("files", ("noise.xml", b"<?xml version='1.0'?><not-an-ecg/>"))],
            "header": [("files", (header.name, header.read_bytes()))],
            "garbage": [("files", ("junk.bin", bytes(range(256)) * 40))],
        }
        for case, files in cases.items():
            response = world.alice.upload(files)
            assert response.status_code == 400, (case, response.text[:300])
            assert 'class="alert alert-error"' in response.text, case
        assert self._state(world) == before

    def test_api_refuses_malformed_upload(self, world: World) -> None:
        before = self._state(world)
        auth = {"Authorization": f"Bearer {world.bob_token}"}
        response = world.bob.client.post("/api/studies", files=[("files", ("x.edf", b"0" * 300))], headers=auth)
        assert response.status_code == 400 and response.json()["detail"]
        assert self._state(world) == before


@pytest.mark.parametrize("backend", BACKENDS)
def test_oversized_upload_is_refused_while_streaming(backend: str, make_app: AppFactory,
                                                     ptbxl_headers: list[Path]) -> None:
    app = make_app(backend, max_upload_mb=0.05)  # 50 kB: a 10 s 500 Hz PTB-XL record is 120 kB
    browser = Browser(TestClient(app))
    browser.register("carol")
    response = browser.upload(wfdb_files(ptbxl_headers[0]))
    assert response.status_code == 413
    assert "0.05 MB" in response.text
    chunked = browser.client.post("/api/studies", content=iter([b"x" * 30_000] * 3),
                                  headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert chunked.status_code == 413
    assert _count_studies(app) == 0
    assert not any(app.state.settings.staging_dir.iterdir())


@pytest.mark.parametrize("backend", BACKENDS)
def test_login_attempts_are_rate_limited(backend: str, make_app: AppFactory) -> None:
    app = make_app(backend, login_max_failures=3)
    add_user(app, "dave", "patient")
    browser = Browser(TestClient(app))
    for _ in range(3):
        assert browser.login("dave", password="wrong password").status_code == 401
    assert browser.login("dave").status_code == 429
    api = browser.client.post("/api/token", data={"username": "dave", "password": PASSWORD})
    assert api.status_code == 429


def test_session_cookie_flags_and_security_headers(make_app: AppFactory) -> None:
    for secure in (False, True):
        app = make_app(secure_cookies=secure)
        response = TestClient(app).get("/login")
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert ("secure" in cookie.replace("samesite", "")) is secure
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_api_docs_load_no_script_from_elsewhere(make_app: AppFactory) -> None:
    """The Swagger UI page keeps the strict content policy: its scripts are the app's own static files."""
    client = TestClient(make_app())
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, flags=re.S)
    sources = [re.search(r'src="([^"]+)"', attrs) for attrs, _ in scripts]
    assert len(scripts) == 2 and all(src and src.group(1).startswith("/static/") for src in sources)
    assert all(not body.strip() for _, body in scripts), "inline script would be blocked by the policy"
    assert "://" not in page.text, "the page names another origin"
    for src in sources:
        assert src is not None and client.get(src.group(1)).status_code == 200
