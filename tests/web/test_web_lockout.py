"""Issue 14, item 3, on a fresh app: failed sign-ins are counted per (user name, client address) and per address, so
an attacker's wrong passwords lock out neither the user elsewhere nor the other users behind the attacker's address;
guesses at one account spread over many addresses back off exponentially, yet the right password from a new
address is never held; the forwarded address counts only from a trusted proxy; concurrent attempts are all
counted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

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


def _shift_attempts_back(app: FastAPI, seconds: float) -> None:
    """Make every counted attempt ``seconds`` older, as if that much time had passed."""
    with app.state.session_factory() as db:
        for attempt in db.scalars(select(LoginAttempt)):
            attempt.created_at -= timedelta(seconds=seconds)
        db.commit()


@pytest.mark.parametrize("backend", BACKENDS)
def test_guesses_spread_over_addresses_back_off_exponentially(backend: str, make_app: AppFactory) -> None:
    app = make_app(backend, login_backoff_after=3, login_backoff_base_s=60)
    add_user(app, "dr-b", "doctor")
    bots = [_browser(app, (f"203.0.113.{i}", 40000)) for i in range(4)]
    assert [bot.login("dr-b", password="guess").status_code for bot in bots[:3]] == [401] * 3
    assert bots[0].login("dr-b", password="guess 2").status_code == 429  # 3 failures: 60 s before the next
    assert bots[3].login("dr-b", password="guess").status_code == 401  # a new address is checked anyway...
    doctor = _browser(app, DOCTORS_PC)
    assert doctor.login("dr-b").status_code == 200  # ...so the right password from a new address never waits
    assert _token_status(_browser(app, ("192.0.2.11", 50000)), "dr-b") == 200
    # 5 failures now (the refused one counts): 60 * 2 ** (5 - 3) = 240 s after the last one.
    _shift_attempts_back(app, 100)
    assert bots[1].login("dr-b", password="guess 3").status_code == 429
    assert bots[1].login("dr-b").status_code == 429  # the right password too, from an address that failed
    _shift_attempts_back(app, 100 + 1000)  # past the window: 6 failures, but all forgotten
    assert bots[1].login("dr-b", password="guess 4").status_code == 401
    with app.state.session_factory() as db:
        throttled = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login_throttled")).all()
    # The delays left: 60 s; 240 s less the 100 s waited; 480 s (each less the seconds the requests took).
    assert [d["backoff_s"] for d in throttled] == pytest.approx([60, 140, 480], abs=10)


def test_the_longest_backoff_holds_no_new_address(make_app: AppFactory) -> None:
    app = make_app(login_backoff_after=2, login_backoff_base_s=1)
    add_user(app, "dr-m", "doctor")
    for i in range(30):
        assert _browser(app, (f"203.0.113.{i}", 40000)).login("dr-m", password="guess").status_code == 401
    assert _browser(app, ("203.0.113.0", 40000)).login("dr-m").status_code == 429  # waits the window (900 s)
    assert _browser(app, DOCTORS_PC).login("dr-m").status_code == 200
    assert _token_status(_browser(app, ("192.0.2.11", 50000)), "dr-m") == 200
