"""Self-contained HTML report: one file, the ECG printout embedded as a base64 PNG, no external resources."""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from cardioscreen.record import ECGRecord
from cardioscreen.report.content import ReportContent, build_content
from cardioscreen.result import AnalysisResult

__all__ = ["render_html"]

PNG_DPI = 130
"""Resolution of the embedded printout: about 1,350 px across, sharp enough to read the 1 mm grid."""


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("cardioscreen.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_document(content: ReportContent, record_id: str) -> str:
    """The HTML text of a report."""
    buffer = io.BytesIO()
    content.ecg.draw().savefig(buffer, format="png", dpi=PNG_DPI)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return _environment().get_template("report.html.j2").render(c=content, ecg_png=png, record_id=record_id)


def render_html(record: ECGRecord, result: AnalysisResult, path: str | Path, lang: str = "en") -> Path:
    """Write the report of ``result`` as one self-contained HTML file at ``path``; returns the path."""
    path = Path(path)
    document = html_document(build_content(record, result, lang), result.record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path
