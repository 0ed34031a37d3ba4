"""Issue 14, item 3, on a fresh app: failed sign-ins are counted per (user name, client address) and per address, so
an attacker's wrong passwords lock out neither the user elsewhere nor the other users behind the attacker's address;
the forwarded address counts only from a trusted proxy; concurrent attempts are all counted."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cardioscreen.web.models import AuditEvent, LoginAttempt

from .conftest import BACKENDS, AppFactory, add_user
from .support import CSRF_RE, PASSWORD, Browser

ATTACKER = ("198.51.100.7", 40000)
DOCTORS_PC = ("192.0.2.10", 50000)


def _browser(app: FastAPI, client: tuple[str, int], **headers: str) -> Browser:
    return Browser(TestClient(app, client=client, headers=headers))


def _token_status(browser: Browser, username: str, password: str = PASSWORD) -> int:
    return browser.client.post("/api/token", data={"username": username, "password": password}).status_code


def _audit_count(app: FastAPI, action: str) -> int:
    with app.state.session_factory() as db:
        return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(make_app: AppFactory) -> None:
    app = make_app()
    add_user(app, "dr-who", "doctor")
    attacker = _browser(app, ATTACKER)
    assert [attacker.login("dr-who", password=f"guess {i}").status_code for i in range(5)] == [401] * 5
    assert attacker.login("dr-who").status_code == 429  # even the right password: the pair is refused unchecked
    assert _token_status(attacker, "dr-who") == 429
    doctor = _browser(app, DOCTORS_PC)
    signed_in = doctor.login("dr-who")
    assert signed_in.status_code == 200 and str(signed_in.url).endswith("/queue")
    assert _token_status(doctor, "dr-who") == 200
    with app.state.session_factory() as db:
        clients = db.scalars(select(AuditEvent.client).where(AuditEvent.action == "login_failed")).all()
    assert clients == [ATTACKER[0]] * 5


def test_the_right_password_forgives_that_addresss_failures(make_app: AppFactory) -> None:
    app = make_app(login_max_failures=3)
    add_user(app, "dave", "patient")
    laptop = _browser(app, DOCTORS_PC)
    assert [laptop.login("dave", password="typo typo").status_code for _ in range(2)] == [401] * 2
    assert laptop.login("dave").status_code == 200
    assert [laptop.login("dave", password="typo typo").status_code for _ in range(4)] == [401] * 3 + [429]


def test_unknown_names_from_a_shared_address_lock_nobody_out(make_app: AppFactory) -> None:
    app = make_app()
    add_user(app, "nurse", "doctor")
    clinic = _browser(app, DOCTORS_PC)
    assert [clinic.login(f"ghost{i}", password=f"guess {i}").status_code for i in range(12)] == [401] * 12
    colleague = _browser(app, DOCTORS_PC)
    assert colleague.login("nurse").status_code == 200

    strict = make_app(login_max_failures_per_address=3)
    add_user(strict, "nurse", "doctor")
    sprayer = _browser(strict, ATTACKER)
    assert [sprayer.login(f"ghost{i}", password="guess").status_code for i in range(3)] == [401] * 3
    assert sprayer.login("nurse").status_code == 429  # the address's own limit, for any name
    assert _browser(strict, DOCTORS_PC).login("nurse").status_code == 200


def test_forwarded_address_counts_only_from_a_trusted_proxy(make_app: AppFactory) -> None:
    proxy = ("10.0.0.2", 443)
    app = make_app(proxy_headers=True, forwarded_allow_ips=proxy[0])
    add_user(app, "dr-x", "doctor")
    attacker = _browser(app, proxy, **{"X-Forwarded-For": "203.0.113.5"})
    assert [attacker.login("dr-x", password="guess").status_code for _ in range(5)] == [401] * 5
    assert attacker.login("dr-x").status_code == 429
    assert _browser(app, proxy, **{"X-Forwarded-For": "203.0.113.6"}).login("dr-x").status_code == 200
    with app.state.session_factory() as db:
        assert set(db.scalars(select(AuditEvent.client).where(AuditEvent.action == "login_failed"))) == {"203.0.113.5"}

    # A peer that is not a trusted proxy cannot pick its address by sending the header (here without proxy_headers).
    plain = make_app()
    add_user(plain, "dr-x", "doctor")
    for i in range(5):
        spoofed = _browser(plain, ATTACKER, **{"X-Forwarded-For": f"203.0.113.{i}"})
        assert spoofed.login("dr-x", password="guess").status_code == 401
    assert _browser(plain, ATTACKER, **{"X-Forwarded-For": "203.0.113.99"}).login("dr-x").status_code == 429


async def _concurrent_logins(app: FastAPI, attempts: int) -> list[int]:
    transport = httpx.ASGITransport(app=app, client=ATTACKER)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        match = CSRF_RE.search((await client.get("/login")).text)
        assert match
        form = {"csrf_token": match.group(1), "username": "dr-c", "password": "wrong password"}
        responses = await asyncio.gather(*(client.post("/login", data=form) for _ in range(attempts)))
    return [r.status_code for r in responses]


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_wrong_passwords_are_all_counted(backend: str, make_app: AppFactory) -> None:
    app = make_app(backend)
    add_user(app, "dr-c", "doctor")
    statuses = asyncio.run(_concurrent_logins(app, 40))
    checked = statuses.count(401)
    # The k-th attempt to commit counts at least k: at most 5 passwords are checked whatever the interleaving
    # (fewer, even none, when attempts commit together and each sees the others), and every attempt counts.
    assert checked <= 5 and statuses.count(429) == 40 - checked
    with app.state.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 40
    assert (_audit_count(app, "login_failed"), _audit_count(app, "login_throttled")) == (checked, 40 - checked)
    assert _browser(app, DOCTORS_PC).login("dr-c").status_code == 200
