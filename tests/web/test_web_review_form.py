"""The doctor's conclusion form records the verdicts on the rhythm and interpretation statements (issue 15, item 1)
as the API does: each statement of the result that is no model class accepted or rejected, rhythm statements
added; a code the form did not offer is ignored. On a real upload (PTB-XL 1, sinus rhythm), in English and
Russian."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.reviews.labels import result_statements
from cardioscreen.rhythm.texts import rhythm_name
from cardioscreen.web.i18n import STRINGS
from cardioscreen.web.models import AuditEvent, StatementVerdict, Study
from cardioscreen.web.routes.studies import ADDABLE_STATEMENTS, statement_choices

from .conftest import AppFactory, add_user
from .support import Browser, wfdb_files
from .test_web_api import _token


def _in_language(browser: Browser, lang: str) -> Browser:
    browser.post_form("/language", {"lang": lang, "next": "/"}, page="/login")
    return browser


def _statement_fields(page: str) -> list[str]:
    return sorted(set(re.findall(r'name="statement_([^"]+)"', page)))


def test_the_form_records_statement_verdicts(make_app: AppFactory, ptbxl_headers: list[Path]) -> None:
    app = make_app()
    add_user(app, "doc", "doctor", full_name="Dr Anna Ivanova")
    patient, doctor = Browser(TestClient(app)), Browser(TestClient(app))
    patient.register("pat")
    doctor.login("doc")
    header = next(h for h in ptbxl_headers if h.stem == "00001_hr")
    uploaded = patient.upload(wfdb_files(header))
    assert uploaded.status_code == 200, uploaded.text[:300]
    sid = int(str(uploaded.url).rsplit("/", 1)[1])
    with app.state.session_factory() as db:
        result = db.get(Study, sid).result
    classes = {p["code"] for p in result["predictions"]}
    flagged = sorted({p["code"] for p in result["predictions"] if p["flagged"]})
    stated = sorted(result_statements(result) - classes)
    assert "SR" in stated  # PTB-XL 1 is sinus rhythm; its rhythm is a statement and no class of the model

    # the form asks about exactly those statements, worded as the page's interpretation words them, in each language
    for lang in ("en", "ru"):
        page = _in_language(doctor, lang).client.get(f"/studies/{sid}").text
        assert _statement_fields(page) == stated
        choices = statement_choices(result, lang)
        for code, text in choices["stated"]:
            assert f'<span class="mono">{code}</span> — {html.escape(text)}</legend>' in page
        assert html.escape(STRINGS[lang]["statements_help"]) in page
        assert rhythm_name("AFIB", lang) in page and 'name="added_statement" value="AFIB"' in page
        assert 'name="added_statement" value="SR"' not in page  # stated already: accepted or rejected, not added
    assert statement_choices(result, "ru")["stated"] != statement_choices(result, "en")["stated"]
    _in_language(doctor, "en")

    # a form refused (a flagged class without a verdict) keeps the doctor's statement answers
    assert flagged
    fields = {"text": "Atrial fibrillation, not sinus rhythm.", "statement_SR": "reject",
              "added_statement": ["AFIB", "LVH", "NOTASTATEMENT"], "statement_NOTASTATEMENT": "accept"}
    refused = doctor.post_form(f"/studies/{sid}/conclusion", fields, page=f"/studies/{sid}")
    assert refused.status_code == 400
    assert 'name="statement_SR" value="reject" checked' in refused.text
    assert 'name="added_statement" value="AFIB" checked' in refused.text
    fields |= {f"verdict_{code}": "agree" for code in flagged}
    saved = doctor.post_form(f"/studies/{sid}/conclusion", fields, page=f"/studies/{sid}")
    assert saved.status_code == 200 and str(saved.url).endswith("/queue"), saved.text[:300]

    with app.state.session_factory() as db:
        stored = {(v.code, v.agree, v.added) for v in db.scalars(select(StatementVerdict))}
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "conclusion")).one()
    assert stored == {("SR", False, False), ("AFIB", True, True)}  # LVH is no rhythm statement; the rest unknown
    assert event.detail["statements"] == {"SR": False, "AFIB": True}
    api = TestClient(app)
    concluded = api.get(f"/api/studies/{sid}", headers=_token(api, "doc"))
    assert concluded.status_code == 200 and concluded.json()["conclusion"]["statements"] == {"SR": False, "AFIB": True}

    # the concluded study shows the statement verdicts, in the reader's language
    for lang in ("en", "ru"):
        page = html.unescape(_in_language(doctor, lang).client.get(f"/studies/{sid}").text)
        chips = re.search(r'<p class="verdicts statement-verdicts">(.*?)</p>', page, re.S)
        assert chips is not None
        sr = dict(statement_choices(result, lang)["stated"])["SR"]
        assert f"SR — {sr}: {STRINGS[lang]['statement_rejected']}" in chips.group(1)
        assert f"AFIB — {rhythm_name('AFIB', lang)}: {STRINGS[lang]['added_finding']}" in chips.group(1)
    _in_language(doctor, "en")


def test_the_form_offers_rhythm_statements_of_ptbxl() -> None:
    """The statements a doctor may add are PTB-XL rhythm and ectopy statements, each with a name in every
    language."""
    assert {"SR", "AFIB", "AFLT", "STACH", "SBRAD", "PVC", "PAC"} <= set(ADDABLE_STATEMENTS)
    assert not {"JUNCT", "UNDET"} & set(ADDABLE_STATEMENTS)  # our own rhythm codes, not PTB-XL statements
    result = {"rhythm": {"code": "AFIB", "name": "Atrial fibrillation"}, "predictions": [{"code": "AFIB"}],
              "interpretation": {"statements": [{"code": "AFIB", "text": "Atrial fibrillation"},
                                                {"code": "LNGQT", "text": "Long QT"}]}}
    choices = statement_choices(result, "en")
    assert choices["stated"] == [("LNGQT", "Long QT")]  # AFIB is a class of this model: a class verdict judges it
