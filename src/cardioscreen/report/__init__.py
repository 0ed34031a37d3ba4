"""Reports for doctors: the 12-lead plot on ECG paper, pathology descriptions, HTML and PDF reports.

Importing this package is cheap (it loads neither matplotlib nor Jinja2): the renderers are imported
when a report is written, so code that only needs :func:`describe` stays light.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from cardioscreen.errors import CardioScreenError
from cardioscreen.report.descriptions import LANGUAGES, describe, ui_strings

if TYPE_CHECKING:
    from cardioscreen.record import ECGRecord
    from cardioscreen.result import AnalysisResult

__all__ = ["LANGUAGES", "REPORT_FORMATS", "describe", "render_report", "ui_strings"]

REPORT_FORMATS: dict[str, tuple[str, str]] = {
    ".html": ("cardioscreen.report.html", "render_html"),
    ".pdf": ("cardioscreen.report.pdf", "render_pdf"),
}
"""File suffix -> (module, function) of its renderer, ``fn(record, result, path, lang) -> Path``."""


def render_report(record: ECGRecord, result: AnalysisResult, path: str | Path, lang: str = "en") -> Path:
    """Write the doctor's report of ``result`` to ``path``; the suffix (.html or .pdf) picks the format.

    Parameters
    ----------
    record : ECGRecord
        The record as read from the file (its ``meta["statements"]``, the device's own interpretation, are
        shown apart from the model's findings).
    result : AnalysisResult
        The analysis of ``record``.
    path : path-like
        Output file, ``.html`` (self-contained) or ``.pdf``.
    lang : str
        ``"en"`` or ``"ru"``.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    target = REPORT_FORMATS.get(path.suffix.lower())
    if target is None:
        raise CardioScreenError(f"cannot write a report as {path.name}: use one of {', '.join(REPORT_FORMATS)}")
    if lang not in LANGUAGES:
        raise CardioScreenError(f"unknown report language {lang!r}; available: {', '.join(LANGUAGES)}")
    module, function = target
    written: Path = getattr(importlib.import_module(module), function)(record, result, path, lang)
    return written
