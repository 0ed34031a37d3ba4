"""Honest classes in the report (HTML and PDF, English and Russian), on real PTB-XL records analysed by the shipped
model: a class the model does not assess reads "not assessed by this model", never a flag or a probability; flags of
a record analysed without its unusable leads say which leads were left out; the validation figures are named as
such."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from cardioscreen.ensemble.reported import prediction_note
from cardioscreen.io import read_ecg
from cardioscreen.pipeline import Analyzer, AnalyzerConfig
from cardioscreen.record import ECGRecord
from cardioscreen.report import render_report
from cardioscreen.report.descriptions import describe, ui_strings
from cardioscreen.report.refusal import refusal_text

RECORDS = ("00001_hr", "00050_hr")
"""PTB-XL 1 (normal ECG) and 50 (whose probability of a class the shipped model does not assess passes that
class's threshold)."""
LEFT_OUT = ("V5", "V6")
"""Leads zeroed in PTB-XL 8 (inferior MI): two flat leads, which the Analyzer leaves out; a third is refused."""


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """The shipped model, English results worded in Russian too (as the web app runs it)."""
    return Analyzer.load(config=AnalyzerConfig(translations=("ru",)))


@pytest.fixture(scope="module")
def not_assessed(analyzer: Analyzer) -> list[str]:
    codes = [c["code"] for c in analyzer.model_info["not_assessed"]]
    assert codes, "the shipped model assesses every class: nothing to check"
    return codes


def _record(ptbxl_dir: Path, name: str) -> ECGRecord:
    return read_ecg(ptbxl_dir / "records500" / "00000" / f"{name}.hea")


def _zeroed(record: ECGRecord, leads: tuple[str, ...]) -> ECGRecord:
    signal = record.signal.copy()
    signal[[list(record.leads).index(lead) for lead in leads]] = 0.0
    return record.with_signal(signal)


def _rows(document: str) -> dict[str, list[tuple[str, str]]]:
    """Code -> (row class, row text) of every row of the findings tables of an HTML report."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for table in re.findall(r'<table class="predictions">(.*?)</table>', document, re.S):
        for attrs, cells in re.findall(r"<tr([^>]*)>(.*?)</tr>", table, re.S)[1:]:
            text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", cells))).strip()
            rows.setdefault(text.split(" ")[0], []).append((attrs, text))
    return rows


def _findings(document: str) -> str:
    """The text of the 'about the flagged findings' section."""
    return " ".join(re.findall(r'<div class="finding">(.*?)</div>', document, re.S))


def _pdf_text(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(path).pages))


@pytest.mark.parametrize("lang", ["en", "ru"])
class TestNotAssessed:
    def test_shown_as_not_assessed_never_as_a_finding(self, analyzer: Analyzer, not_assessed: list[str],
                                                      ptbxl_dir: Path, tmp_path: Path, lang: str) -> None:
        words = prediction_note(False, False, (), lang)
        assert words == {"en": "not assessed by this model", "ru": "не оценивается этой моделью"}[lang]
        text = ui_strings(lang)
        for name in RECORDS:
            record = _record(ptbxl_dir, name)
            result = analyzer.analyze(record)
            document = render_report(record, result, tmp_path / f"{name}.html", lang=lang).read_text("utf-8")
            rows = _rows(document)
            for code in not_assessed:
                prediction = next(p for p in result.predictions if p.code == code)
                assert not prediction.flagged and not prediction.assessed
                for attrs, row in rows[code]:
                    assert 'class="not-assessed"' in attrs and "flagged" not in attrs
                    assert words in row and text["flagged"] not in row
                    assert "%" not in row  # no probability that looks like a result, nor a threshold
                assert f"({code})" not in _findings(document)
            assert f"{text['not_assessed_classes']}</th><td>{', '.join(not_assessed)}</td>" in html.unescape(document)
            assessed = [p for p in result.predictions if p.assessed]
            assert all(words not in row for p in assessed for _, row in rows[p.code])

    def test_pdf_says_not_assessed(self, analyzer: Analyzer, not_assessed: list[str], ptbxl_dir: Path,
                                   tmp_path: Path, lang: str) -> None:
        record = _record(ptbxl_dir, RECORDS[1])
        result = analyzer.analyze(record)
        text = _pdf_text(render_report(record, result, tmp_path / "r.pdf", lang=lang))
        words = re.sub(r"\s+", "", prediction_note(False, False, (), lang))
        flagged = re.sub(r"\s+", "", ui_strings(lang)["flagged"])
        for code in not_assessed:
            name = re.sub(r"\s+", "", describe(code, lang)[0])
            match = re.search(re.escape(code + name + words) + "(.{0,4})", text)
            assert match is not None, code
            assert not match.group(1).startswith(flagged) and "%" not in match.group(1)  # dashes follow
        assert re.sub(r"\s+", "", ui_strings(lang)["not_assessed_classes"]) in text


@pytest.mark.parametrize("lang", ["en", "ru"])
class TestLeadsLeftOut:
    def test_flags_say_which_leads_were_left_out(self, analyzer: Analyzer, ptbxl_dir: Path, tmp_path: Path,
                                                 lang: str) -> None:
        record = _zeroed(_record(ptbxl_dir, "00008_hr"), LEFT_OUT)
        result = analyzer.analyze(record)
        assert result.quality["verdict"] == "warn" and not result.refused and result.lang == "en"
        assert result.flagged
        note = prediction_note(True, True, LEFT_OUT, lang)
        assert "V5, V6" in note
        document = render_report(record, result, tmp_path / "r.html", lang=lang).read_text("utf-8")
        rows = _rows(document)
        for code in {p.code for p in result.predictions}:  # NORM is a row of both tasks' tables
            noted = sum(note in row for _, row in rows[code])
            assert noted == sum(p.flagged for p in result.predictions if p.code == code), (code, rows[code])
        findings = html.unescape(_findings(document))
        assert findings.count(note) == len({p.code for p in result.flagged})
        pdf = _pdf_text(render_report(record, result, tmp_path / "r.pdf", lang=lang))
        assert pdf.count(re.sub(r"\s+", "", note)) >= 2 * len({p.code for p in result.flagged})

    def test_three_flat_leads_refused_naming_them(self, analyzer: Analyzer, ptbxl_dir: Path, tmp_path: Path,
                                                  lang: str) -> None:
        record = _zeroed(_record(ptbxl_dir, "00008_hr"), ("V4", *LEFT_OUT))
        result = analyzer.analyze(record)
        assert result.refused and result.predictions == ()
        assert result.refusal is not None and "V4, V5, V6" in result.refusal
        document = html.unescape(render_report(record, result, tmp_path / "r.html", lang=lang).read_text("utf-8"))
        assert '<table class="predictions">' not in document
        assert refusal_text(result.refusal, lang) in document  # in the report's language
        assert (result.refusal in document) == (lang == "en")


def test_validation_figures_are_named_validation(analyzer: Analyzer, ptbxl_dir: Path, tmp_path: Path) -> None:
    record = _record(ptbxl_dir, RECORDS[0])
    result = analyzer.analyze(record)
    figures = result.model["validation"]
    assert figures and all(np.isfinite(task["macro_auc"]) for task in figures.values())
    for lang, words in (("en", "PTB-XL fold 9, used to choose the model"), ("ru", "по ней выбиралась модель")):
        document = html.unescape(render_report(record, result, tmp_path / f"{lang}.html", lang=lang).read_text())
        heading = document.index(ui_strings(lang)["validation"])
        assert words in ui_strings(lang)["validation"]
        for task in figures.values():
            assert f"{task['macro_auc']:.2f} [{task['macro_auc_ci'][0]:.2f}" in document[heading:]
        assert "held-out" not in document.lower() and "test set" not in document.lower()
