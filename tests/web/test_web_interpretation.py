"""The interpretation in the clinic: the study page (patient and doctor) and the queue show the summary line and the
statements in the reader's language; atrial fibrillation makes a study urgent; every output gives one record the
same numbers."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from cardioscreen.report.descriptions import ui_strings
from cardioscreen.result import worded
from cardioscreen.web.i18n import STRINGS
from cardioscreen.web.models import Study

from .conftest import AppFactory, add_user
from .support import Browser, wfdb_files

RECORDS = {"af": "00321_hr", "sinus": "00001_hr"}
"""PTB-XL 321: atrial fibrillation, 102/min; PTB-XL 1: normal ECG in sinus rhythm, 64/min."""
MEASURES = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms")


def _header(ptbxl_dir: Path, key: str) -> Path:
    return ptbxl_dir / "records500" / "00000" / f"{RECORDS[key]}.hea"


@pytest.fixture(scope="module")
def clinic(make_app: AppFactory, ptbxl_dir: Path) -> tuple[FastAPI, dict[str, int]]:
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("ilya", full_name="Ilya I.")
    ids = {key: int(str(patient.upload(wfdb_files(_header(ptbxl_dir, key))).url).rsplit("/", 1)[1])
           for key in RECORDS}
    add_user(app, "dr-ru", "doctor")
    return app, ids


def _stored(app: FastAPI) -> dict[int, Study]:
    with app.state.session_factory() as db:
        return {s.id: s for s in db.scalars(select(Study))}


def _browser(app: FastAPI, username: str, lang: str) -> Browser:
    browser = Browser(TestClient(app))
    browser.login(username)
    browser.post_form("/language", {"lang": lang, "next": "/"}, page="/login")
    return browser


class TestStudyPage:
    @pytest.mark.parametrize(("username", "lang"), [("ilya", "en"), ("ilya", "ru"), ("dr-ru", "ru")])
    def test_summary_and_statements_in_the_readers_language(self, clinic: tuple[FastAPI, dict[str, int]],
                                                            username: str, lang: str) -> None:
        app, ids = clinic
        browser = _browser(app, username, lang)
        for key, study_id in ids.items():
            study = _stored(app)[study_id]
            assert study.result is not None
            interpretation = worded(study.result, lang)[1]
            assert interpretation is not None
            page = browser.client.get(f"/studies/{study_id}").text
            summary = page.index(f'<p class="summary"><strong>{escape(interpretation["summary"])}</strong></p>')
            assert summary < page.index('src="/studies/')  # above the printout
            items = re.findall(r'<li class="severity-[^"]*">(.*?)</li>', page, re.S)
            assert len(items) == len(interpretation["statements"])
            for item, statement in zip(items, interpretation["statements"], strict=True):
                assert f'<span class="statement">{escape(statement["text"])}</span>' in item
                assert str(escape(statement["evidence"])) in item
                assert STRINGS[lang][f"source_{statement['source']}"] in item
            first = interpretation["summary"]
            assert first.startswith({("af", "en"): "Atrial fibrillation", ("af", "ru"): "Фибрилляция предсердий",
                                     ("sinus", "en"): "Sinus rhythm", ("sinus", "ru"): "Синусовый ритм"}[key, lang])

    def test_the_pdf_report_follows_the_readers_language(self, clinic: tuple[FastAPI, dict[str, int]]) -> None:
        app, ids = clinic
        result = _stored(app)[ids["sinus"]].result or {}
        for lang in ("ru", "en"):
            response = _browser(app, "ilya", lang).client.get(f"/studies/{ids['sinus']}/report.pdf")
            assert response.status_code == 200
            first = re.sub(r"\s+", "", PdfReader(io.BytesIO(response.content)).pages[0].extract_text())
            summary = worded(result, lang)[1]["summary"]  # type: ignore[index]
            assert re.sub(r"\s+", "", summary) in first, lang

    def test_studies_without_an_interpretation_still_render(self, clinic: tuple[FastAPI, dict[str, int]]) -> None:
        """A result stored before the interpretation existed: the page shows no interpretation section."""
        app, ids = clinic
        with app.state.session_factory() as db:
            study = db.get(Study, ids["sinus"])
            assert study is not None and study.result is not None
            original = dict(study.result)
            study.result = {k: v for k, v in original.items() if k not in ("rhythm", "interpretation", "translations")}
            db.commit()
        try:
            page = _browser(app, "ilya", "en").client.get(f"/studies/{ids['sinus']}")
            assert page.status_code == 200 and '<p class="summary">' not in page.text
            assert STRINGS["en"]["interpretation"] not in page.text
        finally:
            with app.state.session_factory() as db:
                study = db.get(Study, ids["sinus"])
                assert study is not None
                study.result = original
                db.commit()


class TestQueue:
    @pytest.mark.parametrize("lang", ["en", "ru"])
    def test_af_heads_the_queue_with_its_summary(self, clinic: tuple[FastAPI, dict[str, int]], lang: str) -> None:
        app, ids = clinic
        studies = _stored(app)
        af = studies[ids["af"]]
        assert af.urgent and [r["code"] for r in af.urgent_reasons or []] == ["AFIB"]
        assert not studies[ids["sinus"]].urgent
        queue = _browser(app, "dr-ru", lang).client.get("/queue").text
        rows = re.findall(r"<tr[^>]*>.*?</tr>", queue, re.S)[1:]
        assert [int(re.search(r"<td>(\d+)</td>", r).group(1)) for r in rows] == [ids["af"], ids["sinus"]]  # type: ignore[union-attr]
        for row, key in zip(rows, ("af", "sinus"), strict=True):
            interpretation = worded(studies[ids[key]].result or {}, lang)[1]
            assert interpretation is not None
            assert f'<span class="summary">{escape(interpretation["summary"])}</span>' in row
        afib = next(s for s in worded(af.result or {}, lang)[1]["statements"] if s["code"] == "AFIB")  # type: ignore[index]
        assert rows[0].startswith('<tr class="urgent">') and STRINGS[lang]["urgent"] in rows[0]
        assert f'<div class="urgent-reason small">{escape(afib["text"])}</div>' in rows[0]


def _cli(*args: str | Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "cardioscreen.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_analyze_intervals_report_and_page_show_the_same_numbers(clinic: tuple[FastAPI, dict[str, int]],
                                                                 ptbxl_dir: Path, tmp_path: Path) -> None:
    """PTB-XL 1 through ``analyze --json``, ``intervals --json``, the PDF report (its text) and the web page."""
    app, ids = clinic
    header = _header(ptbxl_dir, "sinus")
    analyzed = json.loads(_cli("analyze", header, "--json", "--report", tmp_path / "r.pdf"))
    measured = json.loads(_cli("intervals", header, "--json"))
    # compared without white space: the PDF's text layer splits some glyph runs ("QT c (Bazett)")
    report = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(tmp_path / "r.pdf").pages))
    page = _browser(app, "ilya", "en").client.get(f"/studies/{ids['sinus']}").text
    web = STRINGS["en"]
    text = ui_strings("en")
    for key in MEASURES:
        value = analyzed["intervals"][key]
        assert isinstance(value, float) and measured[key] == value, key
        unit = "unit_bpm" if key.endswith("_bpm") else "unit_ms"
        assert re.sub(r"\s+", "", f"{text[key]} {value:.0f} {text[unit]}") in report, key
        assert f'<tr><th>{escape(web[key])}</th><td class="mono">{value:.0f} {web[unit]}' in page, key
    summary = analyzed["interpretation"]["summary"]
    assert re.sub(r"\s+", "", summary) in report
    assert f'<p class="summary"><strong>{escape(summary)}</strong></p>' in page
