"""A refused record's report says why in the report's language (issue 14, item 9): real PTB-XL 1 with eight leads
flat (refused for its quality: the quality check's English reasons) and with V1-V3 flat (too few leads for the
classifier), analysed in English as the web app does and reported in Russian, PDF and HTML, and analysed in Russian
as ``analyze --lang ru`` does."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from cardioscreen.ensemble.reported import too_many_left_out
from cardioscreen.io import read_ecg
from cardioscreen.pipeline import Analyzer, AnalyzerConfig
from cardioscreen.record import ECGRecord
from cardioscreen.report import render_report
from cardioscreen.report.descriptions import ui_strings
from cardioscreen.report.refusal import refusal_text

FLAT = {"quality": ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2"), "leads": ("V1", "V2", "V3")}
RUSSIAN = {"quality": "качество сигнала слишком низкое: пригодны только 4 из 12 отведений; прямая линия: I, II, III, "
                      "aVR, aVL, aVF, V1, V2",
           "leads": "классификатору нужно не меньше 10 из 12 отведений; непригодны (прямая линия, потеря сигнала или "
                    "шум): V1, V2, V3"}
ENGLISH = {"quality": "signal quality too poor: only 4 of 12 leads are usable; flat line: I, II, III, aVR, aVL, aVF, "
                      "V1, V2",
           "leads": "the classifier needs at least 10 of its 12 leads; unusable (flat, lost or noisy): V1, V2, V3"}


@pytest.fixture(scope="module")
def record(ptbxl_dir: Path) -> ECGRecord:
    return read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea")


def _flat(record: ECGRecord, leads: tuple[str, ...]) -> ECGRecord:
    signal = record.signal.copy()
    signal[[list(record.leads).index(lead) for lead in leads]] = 0.0
    return record.with_signal(signal)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def analyzers() -> dict[str, Analyzer]:
    """The shipped model with English results (the web app's) and with Russian ones (``analyze --lang ru``)."""
    english = Analyzer.load(config=AnalyzerConfig(translations=("ru",)))
    return {"en": english, "ru": Analyzer.load(config=AnalyzerConfig(lang="ru"))}


@pytest.mark.parametrize("case", ["quality", "leads"])
def test_a_refused_records_report_says_why_in_its_language(analyzers: dict[str, Analyzer], record: ECGRecord,
                                                           case: str, tmp_path: Path) -> None:
    flat = _flat(record, FLAT[case])
    result = analyzers["en"].analyze(flat, record_id="00001_hr")
    assert result.refused and result.refusal == ENGLISH[case]
    heading = ui_strings("ru")["refusal"]
    pdf = render_report(flat, result, tmp_path / "ru.pdf", lang="ru")
    text = _squeezed("".join(page.extract_text() for page in PdfReader(pdf).pages))
    assert _squeezed(heading) in text and _squeezed(RUSSIAN[case]) in text
    assert _squeezed(ENGLISH[case]) not in text
    page = html.unescape(render_report(flat, result, tmp_path / "ru.html", lang="ru").read_text(encoding="utf-8"))
    assert f"<p>{RUSSIAN[case]}</p>" in page and ENGLISH[case] not in page
    english = html.unescape(render_report(flat, result, tmp_path / "en.html", lang="en").read_text(encoding="utf-8"))
    assert f"<p>{ENGLISH[case]}</p>" in english

    russian = analyzers["ru"].analyze(flat, record_id="00001_hr")  # the leads refusal comes in Russian already
    assert russian.refusal == (ENGLISH if case == "quality" else RUSSIAN)[case]
    page = html.unescape(render_report(flat, russian, tmp_path / "ru2.html", lang="ru").read_text(encoding="utf-8"))
    assert f"<p>{RUSSIAN[case]}</p>" in page


def test_every_refusal_and_reason_has_its_russian_wording() -> None:
    """The report's English wordings are the Analyzer's (the classifier's refusal as ``too_many_left_out`` words it
    in both languages); each quality reason of the check is worded, an unknown one kept as it is."""
    leads = [f"L{i}" for i in range(12)]
    for lang in ("en", "ru"):
        assert too_many_left_out(("V1", "V2", "V3"), leads, lang) == ui_strings(lang)["refusal_too_few_leads"].format(
            needed=10, total=12, leads="V1, V2, V3")
    reasons = {"no lead carries a usable ECG": "ни в одном отведении нет пригодной ЭКГ",
               "no heartbeats found": "сердечные сокращения не найдены",
               "only one heartbeat found (the rate needs at least two)":
                   "найдено только одно сокращение (для расчёта частоты нужны хотя бы два)",
               "implausible heart rate 250 bpm": "неправдоподобная ЧСС 250 уд/мин",
               "strong baseline wander: V1": "сильный дрейф изолинии: V1",
               "a reason of tomorrow": "a reason of tomorrow"}
    refusal = "signal quality too poor: " + "; ".join(reasons)
    assert refusal_text(refusal, "ru") == "качество сигнала слишком низкое: " + "; ".join(reasons.values())
    assert refusal_text(refusal, "en") == refusal and refusal_text(None, "ru") is None
