"""Honest classes in the clinic, on real PTB-XL uploads analysed by the shipped model: the study page (patient and
doctor, English and Russian) shows a class the model does not assess as "not assessed by this model", never as a
flag, a red row or a probability; a normal ECG is not coloured red; flags of a record analysed without its flat
leads say which leads were left out; the model's validation macro-AUC is named validation; the queue lists no
unassessed class."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.ensemble.reported import prediction_note
from cardioscreen.report.descriptions import describe
from cardioscreen.web.i18n import STRINGS
from cardioscreen.web.models import Study

from .conftest import AppFactory, add_user
from .support import Browser, wfdb_files, zeroed_files

RECORDS = ("00001_hr", "00050_hr")
"""PTB-XL 1 (normal ECG, NORM flagged) and 50 (whose probability of a class the shipped model does not assess
passes that class's threshold)."""
ZEROED = ("00008_hr", ("V5", "V6"))
"""PTB-XL 8 (inferior MI) with two leads flat at 0 V: analysed without them."""


@pytest.fixture(scope="module")
def clinic(make_app: AppFactory, ptbxl_dir: Path) -> tuple[FastAPI, dict[str, int]]:
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("pat", full_name="Pat P.")
    folder = ptbxl_dir / "records500" / "00000"
    uploads = {name: wfdb_files(folder / f"{name}.hea") for name in RECORDS}
    uploads["zeroed"] = zeroed_files(folder / f"{ZEROED[0]}.hea", ZEROED[1])
    ids = {key: int(str(patient.upload(files).url).rsplit("/", 1)[1]) for key, files in uploads.items()}
    add_user(app, "dr", "doctor")
    return app, ids


def _results(app: FastAPI) -> dict[int, dict]:
    with app.state.session_factory() as db:
        return {s.id: dict(s.result or {}) for s in db.scalars(select(Study))}


def _browser(app: FastAPI, username: str, lang: str) -> Browser:
    browser = Browser(TestClient(app))
    browser.login(username)
    browser.post_form("/language", {"lang": lang, "next": "/"}, page="/login")
    return browser


def _rows(page: str) -> dict[str, list[tuple[str, str, str]]]:
    """Code -> (row class, row HTML, row text) of each row of the findings table."""
    table = re.search(r'<table class="table predictions">(.*?)</table>', page, re.S)
    assert table is not None
    rows: dict[str, list[tuple[str, str, str]]] = {}
    for attrs, cells in re.findall(r"<tr([^>]*)>(.*?)</tr>", table.group(1), re.S)[1:]:
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", cells))).strip()
        rows.setdefault(text.split(" ")[0], []).append((attrs, cells, text))
    return rows


def _not_assessed(result: dict) -> list[str]:
    """The classes the model does not assess, as the stored result's model names them (checked against its
    predictions)."""
    codes = [c["code"] for c in result["model"]["not_assessed"]]
    assert codes, "the shipped model assesses every class: nothing to check"
    assert sorted(codes) == sorted({p["code"] for p in result["predictions"] if not p["assessed"]})
    return codes


LANGS = ["en", "ru"]


def _section(page: str, css_class: str) -> str:
    match = re.search(rf'<section class="card {css_class}">(.*?)</section>', page, re.S)
    assert match is not None, css_class
    return match.group(1)


@pytest.mark.parametrize("lang", LANGS)
class TestDoctorsPage:
    def test_not_assessed_is_never_a_finding(self, clinic: tuple[FastAPI, dict[str, int]], lang: str) -> None:
        app, ids = clinic
        results, browser = _results(app), _browser(app, "dr", lang)
        words = prediction_note(False, False, (), lang)
        assert words == {"en": "not assessed by this model", "ru": "не оценивается этой моделью"}[lang]
        for name in RECORDS:
            result = results[ids[name]]
            page = browser.client.get(f"/studies/{ids[name]}").text
            rows = _rows(page)
            heading = re.search(r"<h2>.*?</h2>", page[page.index('<table class="table predictions">') - 600:],
                                re.S)
            assert heading is not None
            for code in _not_assessed(result):
                assert not any(p["flagged"] for p in result["predictions"] if p["code"] == code)
                assert f">{code}<" not in heading.group(0)  # not among the flag chips
                for attrs, cells, text in rows[code]:
                    assert attrs == ' class="not-assessed"' and words in text
                    assert "%" not in text and "&#x2691;" not in cells and "meter" not in cells
            for p in result["predictions"]:
                if p["assessed"]:
                    assert all(words not in text for _, _, text in rows[p["code"]])
            listed = f"{html.escape(STRINGS[lang]['not_assessed_classes'])}:</strong> <span class=\"mono\">"
            assert listed + ", ".join(_not_assessed(result)) + "</span>" in page

    def test_normal_ecg_is_not_red(self, clinic: tuple[FastAPI, dict[str, int]], lang: str) -> None:
        app, ids = clinic
        result = _results(app)[ids[RECORDS[0]]]
        assert [p["flagged"] for p in result["predictions"] if p["code"] == "NORM"] == [True, True]
        rows = _rows(_browser(app, "dr", lang).client.get(f"/studies/{ids[RECORDS[0]]}").text)
        for attrs, cells, _ in rows["NORM"]:
            assert attrs == ' class="flagged-norm"' and 'class="meter meter-norm"' in cells
            assert 'class="chip chip-norm"' in cells
        unflagged = [p["code"] for p in result["predictions"] if not p["flagged"] and p["assessed"]]
        assert unflagged and all('class="meter meter-quiet"' in rows[c][0][1] for c in unflagged)

    def test_flags_say_which_leads_were_left_out(self, clinic: tuple[FastAPI, dict[str, int]], lang: str) -> None:
        app, ids = clinic
        result = _results(app)[ids["zeroed"]]
        assert result["quality"]["verdict"] == "warn" and not result["refused"] and result["lang"] == "en"
        flagged = {p["code"] for p in result["predictions"] if p["flagged"]}
        assert flagged
        note = prediction_note(True, True, ZEROED[1], lang)
        rows = _rows(_browser(app, "dr", lang).client.get(f"/studies/{ids['zeroed']}").text)
        for code in {p["code"] for p in result["predictions"] if p["assessed"]}:  # NORM: a row in both tasks
            noted = sum(note in text for _, _, text in rows[code])
            assert noted == sum(p["flagged"] for p in result["predictions"] if p["code"] == code), code

    def test_validation_figures_are_named_validation(self, clinic: tuple[FastAPI, dict[str, int]],
                                                     lang: str) -> None:
        app, ids = clinic
        result = _results(app)[ids[RECORDS[0]]]
        figures = result["model"]["validation"]
        assert figures
        page = html.unescape(_browser(app, "dr", lang).client.get(f"/studies/{ids[RECORDS[0]]}").text)
        label = STRINGS[lang]["validation"]
        assert {"en": "Validation (PTB-XL fold 9, used to choose the model",
                "ru": "Валидация (PTB-XL, fold 9; по ней выбиралась модель"}[lang] in label
        card = page[page.index(f"<strong>{label}:</strong>"):]
        card = card[:card.index("</p>")]
        for task, values in figures.items():
            low, high = values["macro_auc_ci"]
            shown = f"{STRINGS[lang]['task_' + task]}: {STRINGS[lang]['macro_auc']} <span class=\"mono\">" \
                    f"{values['macro_auc']:.2f} [{low:.2f}, {high:.2f}]</span>"
            assert shown in card, task
        assert "held-out" not in page.lower()


@pytest.mark.parametrize("lang", LANGS)
class TestPatientsPage:
    def test_not_assessed_said_in_plain_words_never_a_finding(self, clinic: tuple[FastAPI, dict[str, int]],
                                                              lang: str) -> None:
        app, ids = clinic
        results, browser = _results(app), _browser(app, "pat", lang)
        for name in RECORDS:
            result = results[ids[name]]
            page = browser.client.get(f"/studies/{ids[name]}").text
            assert '<table class="table predictions">' not in page
            section = html.unescape(_section(page, "patient-findings"))
            codes = _not_assessed(result)
            names = [describe(code, lang)[0] for code in codes]
            said = STRINGS[lang]["not_assessed_plain"].format(names=", ".join(names))
            assert prediction_note(False, False, (), lang)[:10].lower() in said.lower()
            assert f'<p class="muted not-assessed-plain">{said}</p>' in section
            findings = section[:section.index(said)]
            assert all(n not in findings for n in names) and "%" not in section

    def test_normal_ecg_is_not_red(self, clinic: tuple[FastAPI, dict[str, int]], lang: str) -> None:
        app, ids = clinic
        result = _results(app)[ids[RECORDS[0]]]
        assert {p["code"] for p in result["predictions"] if p["flagged"]} == {"NORM"}
        page = _browser(app, "pat", lang).client.get(f"/studies/{ids[RECORDS[0]]}").text
        section = html.unescape(_section(page, "patient-findings"))
        assert f'<p class="finding-normal">{STRINGS[lang]["finding_normal"]}</p>' in section
        assert describe("NORM", lang)[0] not in section and "chip" not in section and "flagged" not in section


def test_queue_lists_no_unassessed_class(clinic: tuple[FastAPI, dict[str, int]]) -> None:
    app, ids = clinic
    results = _results(app)
    page = _browser(app, "dr", "en").client.get("/queue").text
    for study_id in ids.values():
        row = re.search(rf'<td>{study_id}</td>.*?</tr>', page, re.S)
        assert row is not None
        flagged = [p["code"] for p in results[study_id]["predictions"] if p["flagged"]]
        assert flagged and all(f">{code}</span>" in row.group(0) for code in flagged)
        for code in _not_assessed(results[study_id]):
            assert f">{code}</span>" not in row.group(0)
