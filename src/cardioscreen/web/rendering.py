"""Images and reports of a stored study, rendered on first request and cached in the study's folder."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from cardioscreen.record import ECGRecord
from cardioscreen.report.content import Review
from cardioscreen.report.pdf import render_pdf
from cardioscreen.report.plot import plot_ecg
from cardioscreen.result import AnalysisResult
from cardioscreen.web.models import Study
from cardioscreen.web.sandbox import Sandbox
from cardioscreen.web.storage import StudyStore

# matplotlib's font cache and backends are not thread-safe; one render at a time per process is plenty.
_RENDER_LOCK = threading.Lock()


def explained(store: StudyStore, key: str, sandbox: Sandbox) -> tuple[ECGRecord, AnalysisResult | None]:
    """The study's record and result, with the saliency of its flagged classes (computed once, in a sandbox worker
    under its limits, and stored)."""
    record = store.load_record(key)
    result = store.load_result(key)
    if result is not None and result.flagged and not store.has_saliency(key):
        saliency: dict[str, np.ndarray] = sandbox.run("explain", record)
        store.save_saliency(key, saliency)
        result = replace(result, saliency=saliency)
    return record, result


def plot_png(store: StudyStore, key: str, sandbox: Sandbox, lang: str) -> Path:
    """The study's 12-lead plot (PNG) with beat markers and saliency shading of the flagged classes, its legend and
    scale in ``lang``."""
    target = store.folder(key) / f"plot-{lang}.png"
    if target.exists():
        return target
    record, result = explained(store, key, sandbox)
    record = record.to_standard12()  # the lead order and rate of the saliency maps
    shading = np.max(np.stack(list(result.saliency.values())), axis=0) if result and result.saliency else None
    with _RENDER_LOCK:
        figure = plot_ecg(record, r_peaks=None if result is None else result.r_peaks, shading=shading, lang=lang)
        staged = f"{target}.{threading.get_ident()}.tmp"
        figure.savefig(staged, format="png", dpi=110)
    os.replace(staged, target)
    return target


def review_of(study: Study) -> Review | None:
    """The study's conclusion as the report shows it (doctor, time, verdicts), or None before one is written."""
    conclusion = study.conclusion
    if conclusion is None:
        return None
    verdicts = tuple((v.code, "added" if v.added else ("agree" if v.agree else "disagree"))
                     for v in conclusion.verdicts)
    return Review(conclusion.text, conclusion.doctor.full_name or conclusion.doctor.username,
                  conclusion.created_at.strftime("%Y-%m-%d %H:%M UTC"), verdicts)


def report_pdf(store: StudyStore, study: Study, lang: str, sandbox: Sandbox) -> Path:
    """The study's PDF report in ``lang``, with its conclusion once written (cached apart from the report before
    it); requires a completed analysis."""
    key, review = study.storage_key, review_of(study)
    concluded = "" if study.conclusion is None else f"-conclusion{study.conclusion.id}"
    target = store.folder(key) / f"report-{lang}{concluded}.pdf"
    if target.exists():
        return target
    record, result = explained(store, key, sandbox)
    if result is None:
        raise FileNotFoundError("the study has no analysis result to report")
    staged = Path(f"{target}.{threading.get_ident()}.tmp.pdf")
    with _RENDER_LOCK:
        render_pdf(record, result, staged, lang=lang, review=review)
    os.replace(staged, target)
    return target
