"""The administrators' models page from the page catalogues (issue 15): linked from the administrators' navigation
only, every word of it in the reader's language."""

from __future__ import annotations

import html
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cardioscreen.web.i18n import STRINGS

from .conftest import AppFactory, add_user
from .support import Browser

LINK = '<a href="/admin/models">'


def _browser(app: FastAPI, username: str, lang: str) -> Browser:
    browser = Browser(TestClient(app))
    browser.login(username)
    browser.post_form("/language", {"lang": lang, "next": "/"}, page="/login")
    return browser


def _visible(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page[page.index("<body"):], flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_the_models_page_reads_in_each_language_and_only_admins_see_it(make_app: AppFactory) -> None:
    app = make_app()
    add_user(app, "chief", "admin")
    add_user(app, "doc", "doctor")
    words = {key for key in STRINGS["en"] if key == "models" or key.startswith("models_")}
    shadow_table = {"models_same_flags", "models_class_agreement", "models_doctors", "models_candidate",
                    "models_active_model"}  # shown with a shadow candidate's runs (test_web_screens has them)
    shown = {key for key in words if "{" not in STRINGS["en"][key]} - shadow_table - {"models_shadow",
                                                                                     "models_fine_tuned"}
    for lang, other in (("en", "ru"), ("ru", "en")):
        admin = _browser(app, "chief", lang)
        page = admin.client.get("/admin/models")
        assert page.status_code == 200 and f'<html lang="{lang}"' in page.text
        text = _visible(page.text)
        assert f'{LINK}{html.escape(STRINGS[lang]["models"])}</a>' in page.text
        missing = sorted(key for key in shown if STRINGS[lang][key] not in text)
        assert not missing, (lang, missing)
        foreign = sorted(key for key in words if STRINGS[other][key] != STRINGS[lang][key]
                         and len(STRINGS[other][key]) >= 8 and "{" not in STRINGS[other][key]
                         and STRINGS[other][key] in text)
        assert not foreign, (lang, foreign)
        missing_study = admin.post_form("/admin/models/reanalyse", {"study_id": "9999"}, page="/admin/models")
        assert STRINGS[lang]["models_no_study"].format(id=9999) in html.unescape(missing_study.text)
        doctor = _browser(app, "doc", lang)
        assert LINK not in doctor.client.get("/queue").text
        assert doctor.client.get("/admin/models").status_code == 403
