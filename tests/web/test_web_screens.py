"""The doctor's workflow in a real browser (Playwright, Debian's Chromium) at a laptop's 1366 px and a phone's
390 px, in English and Russian: no page scrolls sideways on the phone (queue, study page for the doctor and the
patient, the comparison, audit), and screenshots of queue, study (doctor and patient), conclusion and audit go to
``test-artifacts/`` (``<page>-<lang>-<width>.png``)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from .support import PASSWORD
from .test_web_browser import ARTIFACTS, chromium, live_url  # noqa: F401  (fixtures)

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
