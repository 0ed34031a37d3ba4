"""HTML and PDF reports of a real record analysed by the real signal stages, in both languages."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.record import ECGRecord
from cardioscreen.report import render_report
from cardioscreen.report.content import build_content
from cardioscreen.report.descriptions import describe, ui_strings
from cardioscreen.report.pdf import _first_page
from cardioscreen.result import AnalysisResult, Prediction
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.intervals import ecg_intervals
from cardioscreen.signal.peaks import ecg_peaks
from cardioscreen.signal.quality import ecg_quality

STATEMENTS = ["Sinus rhythm", "Borderline ECG (device statement)"]
VALIDATION = {
    "validation": {
        "seed17": {
            "macro_auc": 0.871,
            "macro_auc_ci": [0.84, 0.9],
            "macro_f1": 0.41,
            "macro_f1_ci": [0.35, 0.47],
            "sensitivity": 0.72,
            "specificity": 0.9,
            "n_records": 178,
            "per_class_auc": {"CLBBB": 0.987},
            "baseline": {"macro_auc": 0.5, "macro_f1": 0.08, "macro_f1_ci": [0.05, 0.11]},
        }
    }
}


@pytest.fixture(scope="module")
def record(example_record_path: Path) -> ECGRecord:
    rec = read_ecg(example_record_path)
    rec.meta["statements"] = STATEMENTS
    return rec


@pytest.fixture(scope="module")
def result(record: ECGRecord) -> AnalysisResult:
    """Quality, R-peaks and intervals measured on the record; class scores and saliency given."""
    quality = ecg_quality(record.signal, record.fs, record.leads)
    clean = ecg_clean(record.signal, record.fs)
    peaks, _ = ecg_peaks(clean, record.fs)
    intervals = ecg_intervals(clean, record.fs, peaks, record.leads, quality=quality)
    scores = [
        ("NORM", "seed17", 0.35, 0.5),
        ("CLBBB", "seed17", 0.81, 0.3),
        ("IMI", "seed17", 0.05, 0.4),
        ("CD", "superdiagnostic", 0.77, 0.4),
        ("MI", "superdiagnostic", 0.1, 0.5),
    ]
    predictions = tuple(Prediction(c, describe(c)[0], t, p, th, p >= th) for c, t, p, th in scores)
    saliency = np.zeros(record.signal.shape, dtype=np.float32)
    for lead, weight in (("V5", 1.0), ("V6", 0.8), ("V4", 0.6)):
        saliency[STANDARD_LEADS.index(lead), 4000:4600] = weight
    model = {"name": "se_ecgnet", "version": "0.1.0", "backend": "onnx", "validation": VALIDATION}
    return AnalysisResult(
        "00001_hr",
        record.fs,
        quality.to_dict(),
        intervals.to_dict(),
        predictions,
        model,
        peaks,
        len(peaks),
        saliency={"CLBBB": saliency, "CD": saliency * 0.5},
    )


def _embedded_png(document: str) -> np.ndarray:
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', document)
    assert match is not None
    return np.asarray(imread(io.BytesIO(base64.b64decode(match.group(1)))))


class TestHtmlReport:
    @pytest.mark.parametrize("lang", ["en", "ru"])
    def test_sections_in_each_language(
        self, record: ECGRecord, result: AnalysisResult, tmp_path: Path, lang: str
    ) -> None:
        path = render_report(record, result, tmp_path / f"report_{lang}.html", lang=lang)
        document = path.read_text(encoding="utf-8")
        text = ui_strings(lang)
        assert html.escape(text["notice"]) in document
        assert document.count('<table class="predictions">') == 2
        for code in ("CLBBB", "IMI", "CD", "MI"):
            assert f"<td>{code}</td>" in document
        # Descriptions of the flagged classes only.
        assert html.escape(describe("CLBBB", lang)[1]) in document
        assert html.escape(describe("CD", lang)[1]) in document
        assert html.escape(describe("IMI", lang)[1]) not in document
        assert f"{text['driving_leads']}: V5, V6, V4" in document
        # The device's statements sit in their own section, apart from the model's findings.
        device = document.index(html.escape(text["device_statements"]))
        assert all(document.index(s) > device for s in STATEMENTS)
        assert "0.87 [0.84, 0.90]" in document and "0.99" in document
        # the measured intervals, each with its label, value and unit (record 1: 64 bpm, sinus)
        assert html.escape(text["intervals"]) in document
        for key, unit in (("hr_bpm", "unit_bpm"), ("pr_ms", "unit_ms"), ("qrs_ms", "unit_ms"), ("qt_ms", "unit_ms")):
            value = result.intervals[key]
            row = f"<tr><th>{html.escape(text[key])}</th><td>{value:.0f} {html.escape(text[unit])}</td></tr>"
            assert row in document, row
        assert "http://" not in document and "https://" not in document
        image = _embedded_png(document)
        assert image.shape[1] > 1000 and (image[..., :3].max(axis=-1) < 0.3).mean() > 0.002

    def test_refused_record(self, record: ECGRecord, result: AnalysisResult, tmp_path: Path) -> None:
        refused = AnalysisResult(
            "flat",
            result.fs,
            {
                "verdict": "unusable",
                "reasons": ["flat line in 12 leads"],
                "per_lead": {lead: ["flat"] for lead in STANDARD_LEADS},
            },
            None,
            (),
            result.model,
            np.zeros(0, np.int64),
            0,
            refusal="signal quality too poor",
        )
        document = render_report(record, refused, tmp_path / "refused.html", lang="ru").read_text(encoding="utf-8")
        text = ui_strings("ru")
        assert html.escape(text["refusal"]) in document and "signal quality too poor" in document
        assert '<table class="predictions">' not in document
        assert f"{text['issue_flat']}: I, II" in document


class TestPdfReport:
    @pytest.mark.parametrize("lang", ["en", "ru"])
    def test_pages_and_plot(self, record: ECGRecord, result: AnalysisResult, tmp_path: Path, lang: str) -> None:
        path = render_report(record, result, tmp_path / f"report_{lang}.pdf", lang=lang)
        data = path.read_bytes()
        assert data.startswith(b"%PDF")
        assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 2

    def test_first_page_holds_the_printout(self, record: ECGRecord, result: AnalysisResult) -> None:
        page = _first_page(build_content(record, result, "en"))
        ecg_axes = [ax for ax in page.axes if ax.lines]
        assert len(ecg_axes) == 1
        traces = [
            line
            for line in ecg_axes[0].lines
            if "@" in str(line.get_gid()) and not str(line.get_gid()).startswith("r_peaks")
        ]
        assert len(traces) == 13 and all(len(line.get_xdata()) > 100 for line in traces)
        with_traces = _dark_fraction(page)
        for line in traces:
            line.set_visible(False)
        assert with_traces > 2 * _dark_fraction(page), "the traces put no visible ink on the page"


def _dark_fraction(page: Figure) -> float:
    buffer = io.BytesIO()
    page.savefig(buffer, format="png", dpi=100)
    pixels = np.asarray(imread(io.BytesIO(buffer.getvalue())))[..., :3]
    return float((pixels.max(axis=-1) < 0.5).mean())


class TestDispatch:
    def test_bad_suffix_and_language(self, record: ECGRecord, result: AnalysisResult, tmp_path: Path) -> None:
        with pytest.raises(CardioScreenError, match=r"\.html, \.pdf"):
            render_report(record, result, tmp_path / "report.docx")
        with pytest.raises(CardioScreenError, match="available: en, ru"):
            render_report(record, result, tmp_path / "report.html", lang="fr")
