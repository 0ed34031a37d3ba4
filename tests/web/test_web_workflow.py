"""The doctor's workflow (issue 14, item 7) on a fresh app with real uploads (PTB-XL 1 normal, 103 LAFB/IMI,
321 AF; LUDB 1, a 51-year-old woman; the ECG Toolkit DICOM): the queue paged, filtered and searched, the concluded
list, age/sex/quality in the rows; a verdict required per flagged class and findings the model missed; the
patient's page in plain words; earlier studies paged and compared; the PDF with the conclusion, the doctor and the
record's name; every page in English and Russian from catalogues with the same keys."""

from __future__ import annotations

import html
import io
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from cardioscreen.report.content import quality_notes
from cardioscreen.report.descriptions import describe
from cardioscreen.web import crud
from cardioscreen.web.i18n import STRINGS
from cardioscreen.web.models import ClassVerdict, Study, User
from cardioscreen.web.routes.queue import QUEUE_PAGE_SIZE
from cardioscreen.web.routes.studies import EARLIER_PAGE_SIZE

from .conftest import AppFactory, add_user
from .support import Browser, wfdb_files, zeroed_files

PTBXL = {"normal": "00001_hr", "lafb": "00103_hr", "af": "00321_hr"}
COPIES = 2 * QUEUE_PAGE_SIZE + 7
"""Studies added beside the uploads (copies of their real results) so the queue spans three pages."""


@dataclass
class Clinic:
    app: FastAPI
    anna: Browser
    doctor: Browser
    ids: dict[str, int]
    copies: list[int]


def _study_id(response) -> int:
    assert response.status_code == 200, response.text[:300]
    return int(str(response.url).rsplit("/", 1)[1])


def _in_language(browser: Browser, lang: str) -> Browser:
    browser.post_form("/language", {"lang": lang, "next": "/"}, page="/login")
    return browser


def _queue_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td>(\d+)</td>', page)]


@pytest.fixture(scope="module")
def clinic(make_app: AppFactory, ptbxl_headers: list[Path], shared_data: Path) -> Clinic:
    app = make_app()
    headers = {h.stem: h for h in ptbxl_headers}
    anna = Browser(TestClient(app))
    anna.register("anna", full_name="Anna Petrova")
    ids = {key: _study_id(anna.upload(wfdb_files(headers[name]))) for key, name in PTBXL.items()}
    dicom = shared_data / "formats" / "dicom" / "ecgtoolkit_example.dcm"
    ids["dicom"] = _study_id(anna.upload([("files", (dicom.name, dicom.read_bytes()))]))
    boris = Browser(TestClient(app))
    boris.register("boris", full_name="Boris Sokolov")
    ids["ludb"] = _study_id(boris.upload(wfdb_files(shared_data / "ludb" / "1.hea")))
    ids["zeroed"] = _study_id(boris.upload(zeroed_files(headers["00008_hr"], ("V5", "V6"))))
    copies = []
    with app.state.session_factory() as db:
        owner = db.scalar(select(User).where(User.username == "anna"))
        originals = [db.get(Study, ids[key]) for key in PTBXL]
        store = app.state.store
        for i in range(COPIES):
            source = originals[i % len(originals)]
            key = uuid.uuid4().hex
            shutil.copytree(store.folder(source.storage_key), store.folder(key))
            copies.append(crud.add_study(db, owner, storage_key=key,
                                         original_filename=f"copy{i}.hea", status=source.status,
                                         result=source.result, error=None).id)
        db.commit()
    add_user(app, "drsmith", "doctor", full_name="Dr John Smith")
    doctor = Browser(TestClient(app))
    doctor.login("drsmith")
    return Clinic(app, anna, doctor, ids, copies)


def test_the_queue_is_paged(clinic: Clinic) -> None:
    total = len(clinic.ids) + COPIES
    pages = [clinic.doctor.client.get(f"/queue?page={n}") for n in (1, 2, 3)]
    shown = [_queue_ids(p.text) for p in pages]
    assert [len(s) for s in shown] == [QUEUE_PAGE_SIZE, QUEUE_PAGE_SIZE, total - 2 * QUEUE_PAGE_SIZE]
    assert sorted(sum(shown, [])) == sorted([*clinic.ids.values(), *clinic.copies])
    assert f"Page 1 of 3 · {total} studies" in pages[0].text and 'rel="next" href="/queue?page=2"' in pages[0].text
    assert 'rel="prev"' in pages[2].text and 'rel="next"' not in pages[2].text
    with clinic.app.state.session_factory() as db:
        urgent = {s.id for s in db.scalars(select(Study).where(Study.urgent))}
    assert clinic.ids["af"] in urgent and shown[0][: len(urgent)] == sorted(shown[0][: len(urgent)],
                                                                             key=lambda i: i not in urgent)
    assert set(shown[0][: len(urgent)]) == urgent  # every urgent study on the first page, first
    assert len(pages[0].content) < 200_000


def test_queue_filters_and_search(clinic: Clinic) -> None:
    get = clinic.doctor.client.get
    with clinic.app.state.session_factory() as db:
        studies = {s.id: s for s in db.scalars(select(Study))}
    all_ids = set(studies)

    def listed(query: str) -> set[int]:
        """The studies on every page of the queue with ``query``."""
        found: set[int] = set()
        for page in range(1, 10):
            response = get(f"/queue?{query}&page={page}")
            assert response.status_code == 200, response.text[:300]
            found |= set(_queue_ids(response.text))
            if 'rel="next"' not in response.text:
                return found
        raise AssertionError("more pages than studies")

    code = studies[clinic.ids["af"]].flagged_codes.split(",")[0]
    flagging = {i for i, s in studies.items() if code in s.flagged_codes.split(",")}
    assert code and listed(f"code={code}") == flagging != all_ids, (code, [s.flagged_codes for s in studies.values()])
    assert listed("patient=sokolov") == {clinic.ids["ludb"], clinic.ids["zeroed"]}
    assert listed(f"q=%23{clinic.ids['dicom']}") == {clinic.ids["dicom"]}
    assert listed("q=ecgtoolkit") == {clinic.ids["dicom"]}
    assert listed("q=copy10.hea") == {clinic.copies[10]} and len(listed("q=copy10")) == 8  # copy10, copy100-106
    qualities = {s.quality for s in studies.values()}
    assert qualities <= {"usable", "warn", "unusable"} and len(qualities) >= 2
    for quality in qualities:
        assert listed(f"quality={quality}") == {i for i, s in studies.items() if s.quality == quality}
    assert listed("status=failed") == set()
    today = date.today()
    assert listed(f"since={today - timedelta(days=1)}&until={today + timedelta(days=1)}") == all_ids
    assert listed("") == all_ids
    assert listed(f"since={today + timedelta(days=2)}") == set()
    assert listed(f"until={today - timedelta(days=2)}") == set()
    assert get("/queue?since=yesterday").status_code == 400


def test_rows_show_age_sex_and_quality(clinic: Clinic) -> None:
    for lang, words in (("en", "51 y · female"), ("ru", "51 лет · женский")):
        page = _in_language(clinic.doctor, lang).client.get("/queue?patient=boris").text
        row = re.search(rf'<td>{clinic.ids["ludb"]}</td>.*?</tr>', page, re.S)
        assert row is not None and words in html.unescape(row.group(0))
        assert 'class="badge badge-q-' in row.group(0)
    _in_language(clinic.doctor, "en")


def test_a_verdict_is_required_for_each_flagged_class(clinic: Clinic) -> None:
    sid = clinic.ids["lafb"]
    page = clinic.doctor.client.get(f"/studies/{sid}").text
    with clinic.app.state.session_factory() as db:
        result = db.get(Study, sid).result
    flagged = sorted({p["code"] for p in result["predictions"] if p["flagged"]})
    unflagged = sorted({p["code"] for p in result["predictions"]} - set(flagged))
    assert flagged and unflagged
    # the form sits beside the ECG, above the model's table, each flagged class named with its code
    assert page.index('action="/studies/') < page.index('<table class="table predictions">')
    for code in flagged:
        assert re.search(rf'<legend><span class="mono">{code}</span> — [^<]+</legend>', page), code
        assert f'name="verdict_{code}" value="agree" required' in page

    def conclude(**fields: str) -> object:
        return clinic.doctor.post_form(f"/studies/{sid}/conclusion", {"text": "Tracing read.", **fields},
                                       page=f"/studies/{sid}")

    refused = conclude(**{f"verdict_{flagged[0]}": "agree"})
    assert refused.status_code == 400
    assert f"Agree or disagree with each flagged finding: {', '.join(flagged[1:])}." in html.unescape(refused.text)
    assert f'name="verdict_{flagged[0]}" value="agree" required checked' in refused.text  # the answer is kept
    with clinic.app.state.session_factory() as db:
        assert db.get(Study, sid).conclusion is None
    answers = {f"verdict_{code}": "agree" if i % 2 == 0 else "disagree" for i, code in enumerate(flagged)}
    saved = clinic.doctor.client.post(f"/studies/{sid}/conclusion", data={
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1), "text": "Tracing read.",
        **answers, "added": [unflagged[0], "FAKE", flagged[0]]}, follow_redirects=False)
    assert saved.status_code == 303
    with clinic.app.state.session_factory() as db:
        verdicts = {(v.code, v.agree, v.added) for v in db.scalars(select(ClassVerdict))}
    assert verdicts == {*((code, i % 2 == 0, False) for i, code in enumerate(flagged)), (unflagged[0], True, True)}
    concluded = clinic.doctor.client.get("/queue?view=concluded").text
    assert _queue_ids(concluded) == [sid] and "Dr John Smith" in concluded
    assert sid not in _queue_ids(clinic.doctor.client.get(f"/queue?q=%23{sid}").text)


def test_the_patients_page_in_plain_words(clinic: Clinic) -> None:
    for lang in ("en", "ru"):
        text = STRINGS[lang]
        normal = _in_language(clinic.anna, lang).client.get(f"/studies/{clinic.ids['normal']}").text
        assert normal.count(html.escape(text["finding_normal"])) == 1
        for page in (normal, clinic.anna.client.get(f"/studies/{clinic.ids['lafb']}").text):
            assert '<table class="table predictions">' not in page and html.escape(text["threshold"]) not in page
            assert "seed17" not in page and "superdiagnostic" not in page and ">NORM<" not in page
        lafb = clinic.anna.client.get(f"/studies/{clinic.ids['lafb']}").text
        findings = re.search(r'<ul class="findings">(.*?)</ul>', lafb, re.S)
        assert findings is not None and "NORM" not in findings.group(1)
        with clinic.app.state.session_factory() as db:
            result = db.get(Study, clinic.ids["lafb"]).result
        for code in {p["code"] for p in result["predictions"] if p["flagged"]} - {"NORM"}:
            assert f"<strong>{html.escape(describe(code, lang)[0])}</strong>" in findings.group(1)
    _in_language(clinic.anna, "en")
    # once concluded, the doctor's conclusion heads the patient's page, before the interpretation and the ECG
    sid = clinic.ids["normal"]
    before = clinic.anna.client.get(f"/studies/{sid}").text
    assert html.escape(STRINGS["en"]["no_conclusion"]) in before
    saved = clinic.doctor.post_form(f"/studies/{sid}/conclusion", {"text": "Normal tracing, no follow-up needed.",
                                                                    "verdict_NORM": "agree"}, page=f"/studies/{sid}")
    assert saved.status_code == 200 and str(saved.url).endswith("/queue")
    after = clinic.anna.client.get(f"/studies/{sid}").text
    first = after.index("Normal tracing, no follow-up needed.")
    assert first < after.index('class="card interpretation"') and first < after.index('<img class="ecg"')
    assert "Dr John Smith" in after and "NORM" not in after  # the verdict named in words, without its code


def test_earlier_studies_newest_first_paged_and_compared(clinic: Clinic) -> None:
    last = clinic.copies[-1]
    with clinic.app.state.session_factory() as db:
        earlier = [s.id for s in crud.studies_of(db, db.get(Study, last).owner_id, before=db.get(Study, last))]
    assert len(earlier) > EARLIER_PAGE_SIZE and earlier == sorted(earlier, reverse=True)
    first = clinic.doctor.client.get(f"/studies/{last}").text
    section = first[first.index('class="card earlier"'):]
    listed = [int(i) for i in re.findall(r'<a class="btn btn-small" href="/studies/(\d+)"', section)]
    assert listed == earlier[:EARLIER_PAGE_SIZE]
    assert f'href="/studies/{last}?earlier_page=2"' in section
    second = clinic.doctor.client.get(f"/studies/{last}?earlier_page=2").text
    assert [int(i) for i in re.findall(r'<a class="btn btn-small" href="/studies/(\d+)"',
                                       second[second.index('class="card earlier"'):])] == \
        earlier[EARLIER_PAGE_SIZE: 2 * EARLIER_PAGE_SIZE]
    compare = clinic.doctor.client.get(f"/studies/{last}/compare")
    assert compare.status_code == 200
    assert re.findall(r'<h2><a href="/studies/(\d+)">', compare.text) == [str(last), str(earlier[0])]
    assert compare.text.count('<img class="ecg"') == 2
    assert clinic.doctor.client.get(f"/studies/{clinic.ids['normal']}/compare").status_code == 404
    assert clinic.anna.client.get(f"/studies/{last}/compare").status_code == 403


def _pdf_text(browser: Browser, sid: int) -> str:
    response = browser.client.get(f"/studies/{sid}/report.pdf")
    assert response.status_code == 200, response.text[:300]
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))


def test_the_pdf_carries_the_conclusion_the_doctor_and_the_record_name(clinic: Clinic) -> None:
    sid = clinic.ids["dicom"]
    before = _pdf_text(clinic.doctor, sid)
    assert "Record:ecgtoolkit_example" in before and "Record:record" not in before
    assert "Doctor'sconclusion" not in before
    with clinic.app.state.session_factory() as db:
        result = db.get(Study, sid).result
    fields = {f"verdict_{p['code']}": "agree" for p in result["predictions"] if p["flagged"]}
    text = "Sinus rhythm confirmed on the tracing.\nNo acute changes; compare with the ECG of 2023."
    saved = clinic.doctor.post_form(f"/studies/{sid}/conclusion", {"text": text, **fields}, page=f"/studies/{sid}")
    assert saved.status_code == 200 and str(saved.url).endswith("/queue")
    after = _pdf_text(clinic.doctor, sid)
    assert "Doctor'sconclusion" in after and re.sub(r"\s+", "", text) in after
    assert "Doctor:DrJohnSmith" in after and "Record:ecgtoolkit_example" in after
    assert after.index("Doctor'sconclusion") < after.index("Interpretation", after.index("Doctor'sconclusion") - 1)
    russian = _pdf_text(_in_language(clinic.anna, "ru"), sid)
    assert "Заключениеврача" in russian and "Врач:DrJohnSmith" in russian and re.sub(r"\s+", "", text) in russian
    _in_language(clinic.anna, "en")


def test_the_catalogues_have_the_same_keys() -> None:
    assert set(STRINGS["en"]) == set(STRINGS["ru"])
    for key, english in STRINGS["en"].items():
        assert re.findall(r"{(\w+)}", english) == re.findall(r"{(\w+)}", STRINGS["ru"][key]), key


def _visible_text(page: str) -> str:
    body = page[page.index("<body"):]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_every_page_renders_in_both_languages(clinic: Clinic) -> None:
    """Each page in Russian shows no English wording of the catalogue (and in English no Russian)."""
    add_user(clinic.app, "chief", "admin")
    admin = Browser(TestClient(clinic.app))
    admin.login("chief")
    pages = {clinic.doctor: ["/queue", "/queue?view=concluded", f"/studies/{clinic.ids['lafb']}",
                             f"/studies/{clinic.ids['af']}", f"/studies/{clinic.copies[-1]}/compare", "/account"],
             clinic.anna: ["/studies", f"/studies/{clinic.ids['normal']}", f"/studies/{clinic.ids['lafb']}"],
             admin: ["/admin/users", "/admin/audit"]}
    english = {v for k, v in STRINGS["en"].items() if v != STRINGS["ru"][k] and "{" not in v and len(v) >= 8}
    russian = {v for k, v in STRINGS["ru"].items() if v != STRINGS["en"][k] and "{" not in v and len(v) >= 8}
    try:
        for lang, foreign in (("ru", english), ("en", russian)):
            for browser, paths in pages.items():
                _in_language(browser, lang)
                for path in paths:
                    response = browser.client.get(path)
                    assert response.status_code == 200, (path, response.text[:300])
                    assert f'<html lang="{lang}"' in response.text
                    text = _visible_text(response.text)
                    leftovers = sorted(w for w in foreign if w in text)
                    assert not leftovers, (lang, path, leftovers)
            for path in ("/login", "/register"):
                page = TestClient(clinic.app).get(path, headers={"accept-language": lang}).text
                assert f'<html lang="{lang}"' in page and not sorted(w for w in foreign if w in _visible_text(page))
    finally:
        for browser in pages:
            _in_language(browser, "en")


def test_quality_notes_and_measurement_words_in_the_readers_language(clinic: Clinic) -> None:
    """The study with V5 and V6 flat: its quality notes come in the reader's language, not the analysis' English."""
    sid = clinic.ids["zeroed"]
    with clinic.app.state.session_factory() as db:
        quality = db.get(Study, sid).result["quality"]
    assert quality["verdict"] == "warn" and quality["reasons"]
    russian = html.unescape(_in_language(clinic.doctor, "ru").client.get(f"/studies/{sid}").text)
    _in_language(clinic.doctor, "en")
    notes = quality_notes(quality, "ru")
    assert any("V5" in note and "V6" in note for note in notes)
    for note in notes:
        assert f"<li>{note}</li>" in russian
    for reason in quality["reasons"]:
        assert f"<li>{reason}</li>" not in russian


def test_the_printout_is_labelled_in_the_readers_language(clinic: Clinic) -> None:
    """The plot's legend and scale are drawn in the reader's language (one cached image per language)."""
    sid = clinic.ids["lafb"]
    plots = {}
    for lang in ("en", "ru", "en"):
        response = _in_language(clinic.doctor, lang).client.get(f"/studies/{sid}/plot.png")
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
        assert plots.setdefault(lang, response.content) == response.content
    assert plots["en"] != plots["ru"]
