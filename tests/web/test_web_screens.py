"""The doctor's workflow in a real browser (Playwright, Debian's Chromium) at a laptop's 1366 px and a phone's
390 px, in English and Russian: no page scrolls sideways on the phone (queue, study page for the doctor and the
patient, the comparison, audit), and screenshots of queue, study (doctor and patient), conclusion and audit go to
``test-artifacts/`` (``<page>-<lang>-<width>.png``); so do the administrators' models page and its versions and
shadow tables (``models-<lang>-<width>.png``, ``models-models-...``, ``models-shadow-...``)."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from cardioscreen.cli import main
from cardioscreen.models.bundle import add_to_manifest, content_hash, default_bundle_path
from cardioscreen.web.i18n import STRINGS
from cardioscreen.web.main import create_app
from cardioscreen.web.settings import WebSettings

from .conftest import add_user
from .support import PASSWORD, wfdb_files
from .test_web_api import _token
from .test_web_browser import ARTIFACTS, chromium, live_url, serving  # noqa: F401  (fixtures)

WIDTHS = (1366, 390)
LANGUAGES = {"en": "English", "ru": "Русский"}
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def _page(chromium: Browser, base_url: str) -> Page:  # noqa: F811
    return chromium.new_context(base_url=base_url, viewport={"width": WIDTHS[0], "height": 900}).new_page()


def _sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")


def _upload(page: Page, header: Path) -> str:
    page.goto("/studies")
    page.set_input_files("input[name=files]", [str(header), str(header.with_suffix(".dat"))])
    page.click("form[action='/studies'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/studies/\d+$"), timeout=90_000)
    return page.url.rsplit("/", 1)[1]


def _language(page: Page, lang: str) -> None:
    page.click(f"form.lang-switch button[value={lang}]")
    expect(page.locator("html")).to_have_attribute("lang", lang)


def _shoot(page: Page, path: str, name: str, lang: str, width: int) -> None:
    """Open ``path`` at ``width``, check it does not scroll sideways on a phone, and save its screenshot."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    if page.locator("img.ecg").count():
        page.wait_for_function("[...document.querySelectorAll('img.ecg')].every(i => i.complete && i.naturalWidth)",
                               timeout=90_000)
    if width < 600:
        assert page.evaluate(OVERFLOW) <= 0, f"{path} ({lang}) scrolls sideways at {width} px"
    page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}-{width}.png"), full_page=True)


def test_workflow_screens_at_laptop_and_phone_widths(chromium: Browser, live_url: str,  # noqa: F811
                                                     ptbxl_headers: list[Path]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    headers = {h.stem: h for h in ptbxl_headers}
    patient = _page(chromium, live_url)
    patient.goto("/register")
    patient.fill("input[name=username]", "olga")
    patient.fill("input[name=full_name]", "Ольга Смирнова-Александрова")
    patient.fill("input[name=password]", PASSWORD)
    patient.click("form[action='/register'] button[type=submit]")
    first, second = (_upload(patient, headers[name]) for name in ("00001_hr", "00103_hr"))

    admin = _page(chromium, live_url)
    _sign_in(admin, "chief")
    admin.goto("/admin/users")
    admin.fill("form[action='/admin/users'] input[name=username]", "drpetrov")
    admin.fill("form[action='/admin/users'] input[name=full_name]", "Dr Ivan Petrov")
    admin.fill("form[action='/admin/users'] input[name=password]", PASSWORD)
    admin.select_option("form[action='/admin/users'] select[name=role]", "doctor")
    admin.click("form[action='/admin/users'] button[type=submit]")
    expect(admin.locator(".alert-ok")).to_contain_text("drpetrov")

    doctor = _page(chromium, live_url)
    _sign_in(doctor, "drpetrov")
    expect(doctor).to_have_url(re.compile(r"/queue$"))
    # the first study concluded through the form: every flagged class needs a verdict before it is saved
    doctor.goto(f"/studies/{first}")
    doctor.fill("textarea[name=text]", "Sinus rhythm, normal ECG. No follow-up needed.")
    doctor.click("form[action$='/conclusion'] button[type=submit]")
    expect(doctor).to_have_url(re.compile(rf"/studies/{first}$"))  # the browser refuses: a verdict is required
    for radio in doctor.locator("input[type=radio][value=agree]").all():
        radio.check()
    doctor.click("form[action$='/conclusion'] button[type=submit]")
    expect(doctor).to_have_url(re.compile(r"/queue$"))

    for lang in LANGUAGES:
        for page in (patient, doctor, admin):
            _language(page, lang)
        for width in WIDTHS:
            _shoot(doctor, "/queue", "queue", lang, width)
            _shoot(doctor, f"/studies/{second}", "study-doctor", lang, width)
            doctor.fill("textarea[name=text]", "Left anterior fascicular block; old inferior infarction.")
            for radio in doctor.locator("input[type=radio][value=agree]").all():
                radio.check()
            doctor.locator("details.added summary").click()
            card = doctor.locator("#conclusion")
            card.scroll_into_view_if_needed()
            card.screenshot(path=str(ARTIFACTS / f"conclusion-{lang}-{width}.png"))
            _shoot(doctor, f"/studies/{second}/compare", "compare", lang, width)
            _shoot(patient, f"/studies/{first}", "study-patient", lang, width)
            _shoot(admin, "/admin/audit", "audit", lang, width)
    shots = sorted(p.name for p in ARTIFACTS.glob("*-*-*.png") if p.name.split("-")[0] in
                   {"queue", "study", "conclusion", "compare", "audit"})
    assert len(shots) == 6 * len(LANGUAGES) * len(WIDTHS), shots
    assert all((ARTIFACTS / name).stat().st_size > 5_000 for name in shots)


@pytest.fixture
def registry_app(tmp_path: Path, ptbxl_headers: list[Path]) -> Iterator[FastAPI]:
    """An app whose analysis follows the registry in its data folder, with a shadow candidate (the shipped network
    under another version) that analysed two uploads, one of them concluded, and an administrator."""
    app = create_app(WebSettings(data_dir=tmp_path / "app", session_secret=secrets.token_urlsafe(40),
                                 analysis_workers=1))
    cli = ["--data-dir", str(app.state.settings.data_dir)]
    candidate = shutil.copytree(default_bundle_path(), tmp_path / "candidate")
    add_to_manifest(candidate, "note", "fine-tuned on the clinic's reviews (January)")
    assert main(["models", "add", str(candidate), *cli, "--note", "January reviews"]) == 0
    assert main(["models", "shadow", content_hash(candidate), *cli]) == 0
    for name, role in (("pat", "patient"), ("doc", "doctor"), ("chief", "admin")):
        add_user(app, name, role)
    client = TestClient(app)
    patient, doctor = _token(client, "pat"), _token(client, "doc")
    for header in ptbxl_headers[:2]:
        study = client.post("/api/studies", files=wfdb_files(header), headers=patient)
        assert study.status_code == 201, study.text
    flagged = study.json()["flagged_codes"]
    concluded = client.post(f"/api/studies/{study.json()['id']}/conclusion", headers=doctor,
                            json={"text": "Reviewed.", "verdicts": dict.fromkeys(flagged, True)})
    assert concluded.status_code == 201, concluded.text
    yield app
    app.state.sandbox.close()


def test_models_page_screens_at_laptop_and_phone_widths(chromium: Browser, registry_app: FastAPI,  # noqa: F811
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The administrators' models page (issue 15): the versions, the shadow candidate's agreement and the
    re-analysis form, reached from the navigation, in English and Russian; no sideways scroll on a phone."""
    capsys.readouterr()
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(registry_app) as url:
        admin = _page(chromium, url)
        _sign_in(admin, "chief")
        for lang in LANGUAGES:
            _language(admin, lang)
            admin.click("nav a[href='/admin/models']")
            expect(admin.locator("h1")).to_have_text(STRINGS[lang]["models"])
            expect(admin.locator("#models tbody tr")).to_have_count(2)
            expect(admin.locator("#shadow tbody tr")).to_have_count(1)
            for width in WIDTHS:
                _shoot(admin, "/admin/models", "models", lang, width)
                for section in ("models", "shadow"):
                    card = admin.locator(f"section.card:has(#{section})")
                    card.screenshot(path=str(ARTIFACTS / f"models-{section}-{lang}-{width}.png"))
    shots = sorted(ARTIFACTS.glob("models-*.png"))
    assert len(shots) == 3 * len(LANGUAGES) * len(WIDTHS) and all(p.stat().st_size > 5_000 for p in shots), shots
