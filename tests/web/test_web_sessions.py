"""Issue 14, item 4, on a fresh app: sessions and API tokens can be revoked. Signing out, a new password (the
administrator's reset or the user's own) and a role change end every session and token of the user; a session
ends a fixed time after sign-in however often the cookie is renewed."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.web.main import SESSION_COOKIE
from cardioscreen.web.models import User

from .conftest import BACKENDS, AppFactory, add_user
from .support import PASSWORD, Browser

NEW_PASSWORD = "violet lantern 42"


def _token(app: FastAPI, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = TestClient(app).post("/api/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _me(app: FastAPI, **kwargs: object) -> int:
    return TestClient(app).get("/api/me", **kwargs).status_code  # type: ignore[arg-type]


def _signed_in(app: FastAPI, username: str, password: str = PASSWORD) -> Browser:
    browser = Browser(TestClient(app))
    assert browser.login(username, password=password).status_code == 200
    return browser


def _user_id(app: FastAPI, username: str) -> int:
    with app.state.session_factory() as db:
        user_id = db.scalar(select(User.id).where(User.username == username))
    assert user_id is not None
    return user_id


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> FastAPI:
    app = make_app(request.param)
    add_user(app, "boss", "admin")
    return app


def test_a_cookie_saved_before_sign_out_no_longer_works(app: FastAPI) -> None:
    add_user(app, "dr-out", "doctor")
    browser = _signed_in(app, "dr-out")
    token = _token(app, "dr-out")
    saved = {SESSION_COOKIE: browser.client.cookies[SESSION_COOKIE]}
    assert _me(app, cookies=saved) == 200
    assert browser.logout().status_code == 200
    assert _me(app, cookies=saved) == 401
    assert TestClient(app, cookies=saved).get("/queue", follow_redirects=False).status_code == 303
    assert _me(app, headers=token) == 401
    assert _signed_in(app, "dr-out").client.get("/api/me").json()["username"] == "dr-out"


def test_an_administrators_password_reset_ends_old_sessions_and_tokens(app: FastAPI) -> None:
    add_user(app, "dr-reset", "doctor")
    add_user(app, "dr-api", "doctor")
    admin = _signed_in(app, "boss")
    victims = {name: (_signed_in(app, name), _token(app, name)) for name in ("dr-reset", "dr-api")}
    reset = admin.post_form(f"/admin/users/{_user_id(app, 'dr-reset')}",
                            {"role": "doctor", "active": "on", "password": NEW_PASSWORD}, page="/admin/users")
    assert reset.status_code == 200
    patched = TestClient(app).patch(f"/api/users/{_user_id(app, 'dr-api')}", json={"password": NEW_PASSWORD},
                                    headers=_token(app, "boss"))
    assert patched.status_code == 200
    for name, (browser, token) in victims.items():
        assert browser.client.get("/api/me").status_code == 401, name
        assert _me(app, headers=token) == 401, name
        assert _signed_in(app, name, NEW_PASSWORD).client.get("/api/me").status_code == 200
    assert admin.client.get("/api/me").status_code == 200  # the administrator's own session goes on


def test_a_role_change_ends_sessions_a_language_change_does_not(app: FastAPI) -> None:
    add_user(app, "dr-role", "doctor")
    browser, token = _signed_in(app, "dr-role"), _token(app, "dr-role")
    admin_token = _token(app, "boss")
    user_url = f"/api/users/{_user_id(app, 'dr-role')}"
    assert TestClient(app).patch(user_url, json={"language": "ru"}, headers=admin_token).status_code == 200
    assert browser.client.get("/api/me").status_code == 200 and _me(app, headers=token) == 200
    assert TestClient(app).patch(user_url, json={"role": "patient"}, headers=admin_token).status_code == 200
    assert browser.client.get("/api/me").status_code == 401 and _me(app, headers=token) == 401


def test_the_users_own_password_change_ends_every_other_session(app: FastAPI) -> None:
    add_user(app, "dr-own", "doctor")
    here, elsewhere, token = _signed_in(app, "dr-own"), _signed_in(app, "dr-own"), _token(app, "dr-own")
    wrong = here.post_form("/account/password", {"current_password": "not it at all", "new_password": NEW_PASSWORD},
                           page="/account")
    assert wrong.status_code == 401 and elsewhere.client.get("/api/me").status_code == 200
    changed = here.post_form("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                             page="/account")
    assert changed.status_code == 200 and str(changed.url).endswith("/queue")
    assert here.client.get("/api/me").status_code == 200
    assert elsewhere.client.get("/api/me").status_code == 401 and _me(app, headers=token) == 401
    assert Browser(TestClient(app)).login("dr-own").status_code == 401
    assert _signed_in(app, "dr-own", NEW_PASSWORD).client.get("/api/me").status_code == 200


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``clock[0]``: the time every part of the app reads (the cookie's signature included); move it on by hand."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_a_session_ends_at_its_absolute_lifetime_however_active(app: FastAPI, clock: list[float]) -> None:
    add_user(app, "dr-long", "doctor")
    browser = _signed_in(app, "dr-long")
    lifetime_h = app.state.settings.session_max_age_s // 3600
    seen = []
    for hour in range(lifetime_h):  # busy every hour, well within the idle time; each hour renews the cookie
        clock[0] += 3600
        seen.append(browser.client.get("/api/me").status_code)
        browser.post_form("/language", {"lang": ("en", "ru")[hour % 2], "next": "/queue"}, page="/queue")
    assert seen == [200] * (lifetime_h - 1) + [401]


def test_a_session_ends_after_its_idle_time(app: FastAPI, clock: list[float]) -> None:
    add_user(app, "dr-idle", "doctor")
    browser = _signed_in(app, "dr-idle")
    idle_s = app.state.settings.session_idle_s
    clock[0] += idle_s - 60
    assert browser.client.get("/api/me").status_code == 200
    clock[0] += idle_s - 60
    assert browser.client.get("/api/me").status_code == 200
    clock[0] += idle_s
    assert browser.client.get("/api/me").status_code == 401
