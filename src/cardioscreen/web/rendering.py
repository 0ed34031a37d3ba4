"""Images and reports of a stored study, rendered on first request and cached in the study's folder."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


class SaliencySource(Protocol):
    """Where a study's saliency maps come from: :class:`SandboxSaliency` in the web process, or a job queue's
    worker (:class:`cardioscreen.web.jobs.saliency.QueuedSaliency`)."""

    def ensure(self, study: Study) -> None:
        """Store the saliency maps of ``study``'s flagged classes in its folder (returns once they are there)."""


@dataclass(frozen=True)
class SandboxSaliency:
    """Compute a study's saliency in a sandbox worker under its limits, and store it (the web process without a job
    queue, and a queue worker's ``explain`` job)."""

    store: StudyStore
    sandbox: Sandbox

    def ensure(self, study: Study) -> None:
        key = study.storage_key
        if not self.store.has_saliency(key):
            saliency: dict[str, np.ndarray] = self.sandbox.run("explain", self.store.load_record(key))
            self.store.save_saliency(key, saliency)


def explained(store: StudyStore, study: Study, saliency: SaliencySource) -> tuple[ECGRecord, AnalysisResult | None]:
    """The study's record and result, with the saliency of its flagged classes (computed once and stored)."""
    key = study.storage_key
    record = store.load_record(key)
    result = store.load_result(key)
    if result is not None and result.flagged and not store.has_saliency(key):
        saliency.ensure(study)
        result = store.load_result(key)
    return record, result


def plot_png(store: StudyStore, study: Study, saliency: SaliencySource, lang: str) -> Path:
    """The study's 12-lead plot (PNG) with beat markers and saliency shading of the flagged classes, its legend and
    scale in ``lang``."""
    target = store.folder(study.storage_key) / f"plot-{lang}.png"
    if target.exists():
        return target
    record, result = explained(store, study, saliency)
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


def report_pdf(store: StudyStore, study: Study, lang: str, saliency: SaliencySource) -> Path:
    """The study's PDF report in ``lang``, with its conclusion once written (cached apart from the report before
    it); requires a completed analysis."""
    key, review = study.storage_key, review_of(study)
    concluded = "" if study.conclusion is None else f"-conclusion{study.conclusion.id}"
    target = store.folder(key) / f"report-{lang}{concluded}.pdf"
    if target.exists():
        return target
    record, result = explained(store, study, saliency)
    if result is None:
        raise FileNotFoundError("the study has no analysis result to report")
    staged = Path(f"{target}.{threading.get_ident()}.tmp.pdf")
    with _RENDER_LOCK:
        render_pdf(record, result, staged, lang=lang, review=review)
    os.replace(staged, target)
    return target
