"""The interpretation in the report: the summary line and the statements first, evidence and source beside each,
disagreements marked, in English and Russian; read back from the HTML and from the PDF's own text."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from cardioscreen.interpret import interpret
from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.report import render_report
from cardioscreen.report.descriptions import describe, ui_strings
from cardioscreen.result import AnalysisResult, Prediction
from cardioscreen.rhythm import ecg_rhythm
from cardioscreen.signal.measure import measure_record

SCORES = [("NORM", "seed17", 0.35, 0.5), ("CLBBB", "seed17", 0.81, 0.3), ("IMI", "seed17", 0.05, 0.4)]
"""Given class scores: the network flags complete LBBB on PTB-XL record 1, a normal sinus ECG (QRS about 90 ms),
so the interpretation shows the network's statement marked as disagreeing with the criteria."""


def _worded(record: ECGRecord, predictions: tuple[Prediction, ...], lang: str) -> dict[str, dict]:
    std = record.to_standard12()
    measured = measure_record(std)
    rhythm = ecg_rhythm(measured.clean, std.fs, std.leads, r_peaks=measured.r_peaks,
                        delineation=measured.intervals.delineation, raw=std.signal, lang=lang)
    interpretation = interpret(rhythm, measured.intervals, measured.morphology, predictions, lang=lang)
    return {"rhythm": rhythm.to_dict(), "interpretation": interpretation.to_dict()}


@pytest.fixture(scope="module")
def record(example_record_path: Path) -> ECGRecord:
    return read_ecg(example_record_path)


@pytest.fixture(scope="module")
def result(record: ECGRecord) -> AnalysisResult:
    """PTB-XL record 1 measured, its rhythm analysed and interpreted in English (Russian as a translation)."""
    std = record.to_standard12()
    measured = measure_record(std)
    predictions = tuple(Prediction(c, describe(c)[0], t, p, th, p >= th) for c, t, p, th in SCORES)
    english = _worded(record, predictions, "en")
    return AnalysisResult("00001_hr", std.fs, measured.quality.to_dict(), measured.intervals.to_dict(), predictions,
                          {"name": "se_ecgnet"}, measured.r_peaks, len(measured.r_peaks), **english, lang="en",
                          translations={"ru": _worded(record, predictions, "ru")})


def _pdf_pages(path: Path) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(path).pages]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


class TestInterpretationOfRecord1:
    def test_what_the_report_interprets(self, result: AnalysisResult) -> None:
        english, russian = result.worded("en")[1], result.worded("ru")[1]
        assert english is not None and russian is not None
        assert english["summary"].startswith("Sinus rhythm 64/min.")
        assert russian["summary"].startswith("Синусовый ритм 64/мин.")
        codes = [s["code"] for s in english["statements"]]
        assert codes[0] == "SR" and "CLBBB" in codes
        clbbb = english["statements"][codes.index("CLBBB")]
        assert clbbb["source"] == "model" and clbbb["disagreement"]


class TestHtml:
    @pytest.mark.parametrize("lang", ["en", "ru"])
    def test_interpretation_comes_first(self, record: ECGRecord, result: AnalysisResult, tmp_path: Path,
                                        lang: str) -> None:
        document = render_report(record, result, tmp_path / f"r_{lang}.html", lang=lang).read_text(encoding="utf-8")
        text = ui_strings(lang)
        interpretation = result.worded(lang)[1]
        assert interpretation is not None
        summary = document.index(f'<p class="summary">{html.escape(interpretation["summary"])}</p>')
        assert summary < document.index('<table class="info">') < document.index("<figure>")
        rows = re.findall(r"<tr class=\"severity-[^\"]+\">(.*?)</tr>", document, re.S)
        assert len(rows) == len(interpretation["statements"])
        for row, statement in zip(rows, interpretation["statements"], strict=True):
            assert html.escape(statement["text"]) in row and html.escape(statement["evidence"]) in row
            assert html.escape(text[f"source_{statement['source']}"]) in row
            assert (html.escape(text["disagreement"]) in row) == statement["disagreement"]
        # the rhythm row of the interval table names the rhythm analysis' call
        rhythm = result.worded(lang)[0]
        assert rhythm is not None
        assert f"<tr><th>{html.escape(text['rhythm'])}</th><td>{html.escape(rhythm['name'])}</td></tr>" in document


class TestPdf:
    @pytest.mark.parametrize("lang", ["en", "ru"])
    def test_summary_on_page_one_evidence_on_page_two(self, record: ECGRecord, result: AnalysisResult,
                                                      tmp_path: Path, lang: str) -> None:
        pages = _pdf_pages(render_report(record, result, tmp_path / f"r_{lang}.pdf", lang=lang))
        interpretation = result.worded(lang)[1]
        assert interpretation is not None
        first, second = pages[0], pages[1]
        assert _flat(interpretation["summary"]) in first
        text = ui_strings(lang)
        for i, statement in enumerate(interpretation["statements"], start=1):
            assert f"{i}. {statement['text']}" in first
            assert _flat(statement["evidence"]) in second
        # the printout follows the interpretation on page 1; page 2 opens with it
        assert first.index(_flat(interpretation["summary"])) < first.index("aVR")
        assert second.index(text["interpretation"]) < second.index(text["title"])
        assert text["disagreement"] in first and text["disagreement"] in second
        assert ("Синусовый ритм" in first) == (lang == "ru")

    def test_an_older_result_without_interpretation(self, record: ECGRecord, result: AnalysisResult,
                                                    tmp_path: Path) -> None:
        older = replace(result, rhythm=None, interpretation=None, translations={})
        pages = _pdf_pages(render_report(record, older, tmp_path / "older.pdf"))
        assert ui_strings("en")["no_interpretation"] in pages[0] and "Sinus rhythm 64/min" not in pages[0]
