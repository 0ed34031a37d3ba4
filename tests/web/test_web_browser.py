"""The whole clinic in a real browser (Playwright driving Debian's Chromium, headless) against a live server.

Screenshots of the patient's study page and the doctor's queue go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .conftest import AppFactory, add_user
from .support import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free local port (in a thread) while the block runs; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_url(make_app: AppFactory) -> Iterator[str]:
    app = make_app()
    add_user(app, "chief", "admin", full_name="Chief Admin")
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} not found; install Debian's chromium (make system-deps)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _page(chromium: Browser, base_url: str) -> Page:
    context = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    return context.new_page()


def _sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit] >> text=Sign in")


def test_patient_doctor_and_admin_in_the_browser(chromium: Browser, live_url: str, ptbxl_headers: list[Path]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    header = ptbxl_headers[0]

    patient = _page(chromium, live_url)
    patient.goto("/register")
    patient.fill("input[name=username]", "anna")
    patient.fill("input[name=full_name]", "Anna Petrova")
    patient.fill("input[name=password]", PASSWORD)
    patient.click("form[action='/register'] button[type=submit]")
    expect(patient).to_have_url(re.compile(r"/studies$"))
    patient.set_input_files("input[name=files]", [str(header), str(header.with_suffix(".dat"))])
    patient.click("button[type=submit] >> text=Upload and analyse")
    expect(patient).to_have_url(re.compile(r"/studies/\d+$"), timeout=60_000)
    expect(patient.locator("section.patient-findings")).to_be_visible()  # findings in plain words, no scores
    expect(patient.locator("img.ecg")).to_be_visible()
    # PTB-XL record 1: the interpretation's summary line heads the page, the rhythm its first statement
    expect(patient.locator("section.interpretation p.summary")).to_have_text("Sinus rhythm 64/min. Normal ECG.")
    expect(patient.locator("ol.statements li").first).to_contain_text("Sinus rhythm 64/min")
    second = next(h for h in ptbxl_headers if h.name == "00103_hr.hea")  # PTB-XL: LAFB, inferior MI
    patient.goto("/studies")
    patient.set_input_files("input[name=files]", [str(second), str(second.with_suffix(".dat"))])
    patient.click("button[type=submit] >> text=Upload and analyse")
    expect(patient).to_have_url(re.compile(r"/studies/\d+$"), timeout=60_000)

    admin = _page(chromium, live_url)
    _sign_in(admin, "chief")
    expect(admin).to_have_url(re.compile(r"/admin/users$"))
    admin.fill("form[action='/admin/users'] input[name=username]", "drsmith")
    admin.fill("form[action='/admin/users'] input[name=full_name]", "Dr John Smith")
    admin.fill("form[action='/admin/users'] input[name=password]", PASSWORD)
    admin.select_option("form[action='/admin/users'] select[name=role]", "doctor")
    admin.click("form[action='/admin/users'] button[type=submit]")
    expect(admin.locator(".alert-ok")).to_contain_text("drsmith")

    doctor = _page(chromium, live_url)
    _sign_in(doctor, "drsmith")
    expect(doctor).to_have_url(re.compile(r"/queue$"))
    rows = doctor.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(doctor.locator("table")).to_contain_text("Anna Petrova")
    urgencies = [float(u) for u in doctor.locator("tbody tr td:first-child span.mono").all_inner_texts()]
    assert urgencies == sorted(urgencies, reverse=True)
    expect(doctor.locator("tbody tr span.summary")).to_have_count(2)
    expect(doctor.locator("tbody")).to_contain_text("Sinus rhythm 64/min. Normal ECG.")
    doctor.screenshot(path=str(ARTIFACTS / "doctor_queue.png"), full_page=True)
    most_urgent = rows.first.locator("a.btn").get_attribute("href")
    assert most_urgent is not None
    rows.first.locator("a.btn").click()
    expect(doctor).to_have_url(live_url + most_urgent)
    doctor.fill("textarea[name=text]", "Findings reviewed against the clinical history; follow-up in 12 months.")
    for radio in doctor.locator("input[type=radio][value=agree]").all():
        radio.check()
    doctor.click("button[type=submit] >> text=Save conclusion")
    expect(doctor).to_have_url(re.compile(r"/queue$"))
    expect(doctor.locator(".alert-ok")).to_be_visible()
    expect(doctor.locator("tbody tr")).to_have_count(1)
    expect(doctor.locator(f"a[href='{most_urgent}']")).to_have_count(0)

    patient.goto(most_urgent)
    expect(patient.locator("blockquote.conclusion")).to_contain_text("follow-up in 12 months")
    expect(patient.locator("main")).to_contain_text("Dr John Smith")
    patient.wait_for_function("document.querySelector('img.ecg').complete")
    patient.screenshot(path=str(ARTIFACTS / "patient_study.png"), full_page=True)
    assert (ARTIFACTS / "patient_study.png").stat().st_size > 10_000


def test_api_docs_render_under_the_content_policy(chromium: Browser, live_url: str) -> None:
    """Swagger UI, served by the app itself, lists the API's operations; the browser reports no policy violation."""
    page = _page(chromium, live_url)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(response.url) if response.status >= 400 else None)
    page.goto("/api/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=15_000)
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert {"/api/token", "/api/queue"} <= {p.replace("\u200b", "") for p in paths}
    assert not problems, problems
