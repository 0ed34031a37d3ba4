"""The study page of a queued upload in a real browser (Playwright, Debian's Chromium): it says the study is queued,
and when a worker has analysed it the result appears in place, without a reload, within the content policy."""

from __future__ import annotations

import time

from playwright.sync_api import Browser, expect

from cardioscreen.web.models import Role

from .conftest import AppFactory, add_user
from .jobs_support import STUDY_TIMEOUT_S, serving
from .support import PASSWORD, wfdb_files
from .test_web_browser import chromium  # noqa: F401  (the browser fixture)
from .test_web_browser import serving as live_server


def test_the_page_of_a_queued_study_fills_in_by_itself(chromium: Browser, make_app: AppFactory,  # noqa: F811
                                                      browser_for, ptbxl_headers, analyze, explain) -> None:
    app = make_app("postgresql", job_queue=True)
    add_user(app, "pat-browser", Role.PATIENT.value)
    uploader = browser_for(app)
    uploader.login("pat-browser")
    study_page = uploader.upload(wfdb_files(ptbxl_headers[0]))
    path = study_page.url.path
    with live_server(app) as base:
        page = chromium.new_context(base_url=base).new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto("/login")
        page.fill("input[name=username]", "pat-browser")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit] >> text=Sign in")
        page.goto(path)
        expect(page.locator("section.analysis-pending")).to_contain_text("Queued for analysis")
        expect(page.locator(".study-head .badge-queued")).to_be_visible()
        page.evaluate("window.stayed = true")  # gone if the page is reloaded or left
        with serving(app, analyze, explain):
            expect(page.locator("section.interpretation p.summary")).to_have_text(
                "Sinus rhythm 64/min. Normal ECG.", timeout=STUDY_TIMEOUT_S * 1000)
            # the plot of the new content, its saliency an explain job of the same worker
            deadline = time.monotonic() + STUDY_TIMEOUT_S
            while not page.locator("img.ecg").evaluate("img => img.complete && img.naturalWidth > 0"):
                assert time.monotonic() < deadline, "the ECG plot did not load"
                time.sleep(0.2)
        expect(page.locator("section.analysis-pending")).to_have_count(0)
        expect(page.locator(".study-head .badge-done")).to_be_visible()
        assert page.evaluate("window.stayed") is True
        assert page.url == base + path
        assert problems == []
