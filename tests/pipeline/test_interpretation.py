"""The Analyzer's rhythm and interpretation on real records: AF, sinus, a refused record, other languages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.io import read_ecg
from cardioscreen.pipeline import NOT_INTERPRETABLE, Analyzer, AnalyzerConfig
from cardioscreen.record import ECGRecord
from cardioscreen.report.descriptions import ui_strings
from cardioscreen.result import AnalysisResult

AF_RECORD = "00321_hr"
"""PTB-XL 321: atrial fibrillation (scp_codes AFIB, EL, NST_), 102/min."""
SINUS_RECORD = "00001_hr"
"""PTB-XL 1: normal ECG in sinus rhythm (NORM, SR), 64/min."""


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load(config=AnalyzerConfig(translations=("ru",)))


def _record(ptbxl_dir: Path, name: str) -> ECGRecord:
    return read_ecg(ptbxl_dir / "records500" / "00000" / f"{name}.hea")


@pytest.fixture(scope="module")
def af(analyzer: Analyzer, ptbxl_dir: Path) -> AnalysisResult:
    return analyzer.analyze(_record(ptbxl_dir, AF_RECORD))


@pytest.fixture(scope="module")
def sinus(analyzer: Analyzer, ptbxl_dir: Path) -> AnalysisResult:
    return analyzer.analyze(_record(ptbxl_dir, SINUS_RECORD))


class TestInterpretation:
    def test_atrial_fibrillation_is_the_rhythm_and_urgent(self, af: AnalysisResult) -> None:
        assert af.rhythm is not None and af.interpretation is not None
        assert af.rhythm["code"] == "AFIB" and af.rhythm["heart_rate_bpm"] == pytest.approx(102, abs=3)
        statements = af.interpretation["statements"]
        assert statements[0]["code"] == "AFIB" and statements[0]["severity"] == "urgent"
        assert af.interpretation["summary"].startswith("Atrial fibrillation")
        assert af.interpretation["urgent"] is True
        # every statement names where it came from and what triggered it
        assert all(s["source"] in ("measurement", "model", "both") and s["evidence"] for s in statements)

    def test_sinus_rhythm_leads_the_summary(self, sinus: AnalysisResult) -> None:
        assert sinus.rhythm is not None and sinus.interpretation is not None
        assert sinus.rhythm["code"] == "SR" and sinus.rhythm["episodes"] == [
            {"code": "SR", "start_s": 0.0, "end_s": 10.0}]
        assert sinus.interpretation["summary"] == "Sinus rhythm 64/min. Normal ECG."
        assert sinus.interpretation["urgent"] is False
        # the rate stated is the rate the intervals measured
        assert sinus.intervals is not None
        assert f"{sinus.intervals['hr_bpm']:.0f}/min" in sinus.interpretation["statements"][0]["text"]

    def test_russian_wording_travels_with_the_result(self, af: AnalysisResult, sinus: AnalysisResult) -> None:
        rhythm, interpretation = sinus.worded("ru")
        assert rhythm is not None and interpretation is not None
        assert rhythm["name"] == "Синусовый ритм"
        assert interpretation["summary"] == "Синусовый ритм 64/мин. Нормальная ЭКГ."
        assert af.worded("ru")[1]["summary"].startswith("Фибрилляция предсердий")  # type: ignore[index]
        # the same statements in both languages, in the same order
        assert [s["code"] for s in af.worded("ru")[1]["statements"]] == [  # type: ignore[index]
            s["code"] for s in af.interpretation["statements"]]  # type: ignore[index]
        again = AnalysisResult.from_dict(af.to_dict())
        assert again.worded("ru") == af.worded("ru") and again.worded("en") == (af.rhythm, af.interpretation)

    def test_a_refused_record_says_it_was_not_interpreted(self, analyzer: Analyzer, ptbxl_dir: Path) -> None:
        """PTB-XL record 1 with every lead flat: no rhythm, one statement asking for a new recording."""
        record = _record(ptbxl_dir, SINUS_RECORD)
        flat = record.with_signal(np.zeros_like(record.signal))
        result = analyzer.analyze(flat)
        assert result.refused and result.rhythm is None and result.interpretation is not None
        text = ui_strings("en")["not_interpretable"]
        assert result.interpretation["summary"] == text and result.interpretation["urgent"] is False
        [statement] = result.interpretation["statements"]
        assert statement["code"] == NOT_INTERPRETABLE and statement["evidence"] == result.refusal
        assert result.worded("ru")[1]["summary"] == ui_strings("ru")["not_interpretable"]  # type: ignore[index]
