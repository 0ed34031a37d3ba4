"""What a report says, resolved to one language and formatted, independent of HTML or PDF.

:func:`build_content` turns a record and its :class:`~cardioscreen.result.AnalysisResult` into a
:class:`ReportContent`: the ECG figure plus rows of already-formatted text that the HTML and PDF
renderers lay out, so both formats say exactly the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cardioscreen.errors import ECGFormatError
from cardioscreen.record import ECGRecord
from cardioscreen.report.caveats import caveat, not_assessed_codes
from cardioscreen.report.descriptions import describe, ui_strings
from cardioscreen.report.plot import plot_ecg
from cardioscreen.report.refusal import refusal_text, with_refusal_worded
from cardioscreen.result import AnalysisResult, Prediction
from cardioscreen.signal.clean import ecg_clean

__all__ = ["EcgPanel", "Finding", "PredictionRow", "ReportContent", "StatementRow", "build_content",
           "validation_tasks", "with_ci"]

_MEASURES: tuple[str, ...] = (
    "hr_bpm", "pr_ms", "p_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms", "qtc_framingham_ms",
    "qrs_axis_deg", "p_axis_deg", "t_axis_deg", "rr_sdnn_ms", "rr_rmssd_ms",
)
"""Interval measures shown, in this order, when the result has them."""
_UNITS: dict[str, str] = {"_ms": "unit_ms", "_bpm": "unit_bpm", "_deg": "unit_deg"}
_VALIDATION_COLUMNS: tuple[str, ...] = ("macro_auc", "macro_f1", "sensitivity", "specificity")
_N_DRIVING_LEADS = 3
_NO_SHADING = frozenset({"NORM"})
"""Flagged classes whose saliency is not shaded: a normal ECG has no region that 'drives' it."""


@dataclass(frozen=True)
class PredictionRow:
    """One class's output, formatted. A class the model does not assess shows its caveat ("not assessed by this
    model") in place of a probability and a threshold; ``note`` is the caveat in the report's language (empty when
    there is none)."""

    code: str
    name: str
    probability: str
    threshold: str
    flagged: bool
    assessed: bool
    note: str


@dataclass(frozen=True)
class StatementRow:
    """One statement of the interpretation, worded for the report.

    ``source`` is the language-resolved label of where it came from (measured, model, both); ``disagreement``
    marks a statement the measurements and the network disagree on (both are shown).
    """

    code: str
    text: str
    evidence: str
    source: str
    severity: str
    disagreement: bool


@dataclass(frozen=True)
class Finding:
    """A flagged class: its description, its caveat (``note``: the leads left out of the analysis, or empty) and,
    when saliency exists, the leads that drove it."""

    code: str
    name: str
    text: str
    probability: str
    driving_leads: str
    class_auc: str
    note: str


@dataclass(frozen=True)
class EcgPanel:
    """The printout to draw: the record as shown (12 standard leads, cleaned) and its overlays."""

    record: ECGRecord
    r_peaks: np.ndarray
    shading: np.ndarray | None
    title: str
    lang: str
    boundaries: dict[str, np.ndarray]

    def draw(self, ax: Axes | None = None) -> Figure:
        """The printout as a new true-scale figure, or drawn into ``ax``."""
        return plot_ecg(self.record, r_peaks=self.r_peaks, shading=self.shading, title=self.title, lang=self.lang,
                        fiducials=self.boundaries or None, ax=ax)


@dataclass(frozen=True)
class Review:
    """A doctor's conclusion of the study, which the report shows before everything the model says.

    Attributes
    ----------
    text : str
        The conclusion as the doctor wrote it.
    doctor : str
        The doctor's name.
    concluded_at : str
        When it was written (``YYYY-MM-DD HH:MM UTC``).
    verdicts : tuple of (str, str)
        Class code and the doctor's verdict on it: ``"agree"`` or ``"disagree"`` with the model's flag, or
        ``"added"`` for a finding the model did not flag.
    """

    text: str
    doctor: str
    concluded_at: str
    verdicts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ReportContent:
    """Everything a report shows, as language-resolved text (``text`` holds the interface strings)."""

    lang: str
    text: dict[str, str]
    info: list[tuple[str, str]]
    summary: str | None
    statements: list[StatementRow]
    ecg: EcgPanel
    ecg_caption: str
    refusal: str | None
    prediction_groups: list[tuple[str, list[PredictionRow]]]
    findings: list[Finding]
    intervals: list[tuple[str, str]]
    quality_verdict: str
    quality_notes: list[str]
    device_statements: list[str]
    model_info: list[tuple[str, str]]
    validation_header: list[str]
    validation_rows: list[list[str]]
    review: Review | None = None
    review_verdicts: list[str] = field(default_factory=list)


_BOUNDARIES = ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")
"""Wave boundaries marked on the report's printout."""


def _percent(value: float) -> str:
    """A probability as a percentage; one decimal below 10% so small values and thresholds stay apart."""
    return f"{100.0 * value:.1f}%" if value < 0.1 else f"{100.0 * value:.0f}%"


def _number(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "\u2014"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _plot_record(record: ECGRecord, fs: float) -> ECGRecord:
    """The record as the analysis saw it: the 12 standard leads when it has them, at ``fs``, cleaned for display."""
    try:
        shown = record.to_standard12()
    except ECGFormatError:
        shown = record
    if shown.fs != fs:
        shown = shown.resample(fs)
    return shown.with_signal(ecg_clean(shown.signal, shown.fs))


def _shaded(result: AnalysisResult, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Saliency maps of the flagged abnormal classes that fit the plotted record."""
    return {
        p.code: np.asarray(result.saliency[p.code])
        for p in result.flagged
        if p.code not in _NO_SHADING and p.code in result.saliency and np.shape(result.saliency[p.code]) == shape
    }


def validation_tasks(model: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Task -> figures from the model's validation dict (``{"validation": {task: ...}}`` or ``{task: ...}``)."""
    figures: Any = model.get("validation") or {}
    if isinstance(figures, Mapping) and isinstance(figures.get("validation"), Mapping):
        figures = figures["validation"]
    if not isinstance(figures, Mapping):
        return {}
    return {task: dict(v) for task, v in figures.items() if isinstance(v, Mapping) and "macro_auc" in v}


def with_ci(figures: Mapping[str, Any], key: str) -> str:
    """``figures[key]`` to two decimals with its 90 % interval ``figures[key + "_ci"]`` when it has one, e.g.
    ``"0.87 [0.84, 0.90]"``; a dash when the figure is missing."""
    value = figures.get(key)
    ci = figures.get(f"{key}_ci")
    text = _number(value)
    if isinstance(ci, list | tuple) and len(ci) == 2 and all(isinstance(c, int | float) and math.isfinite(c)
                                                            for c in ci):
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    return text


def _validation(text: dict[str, str], tasks: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = [text["metric_task"], *(text[k] for k in _VALIDATION_COLUMNS), text["n_records"], text["baseline"]]
    rows = []
    for task, figures in tasks.items():
        baseline = figures.get("baseline", {})
        rows.append([
            text.get(f"task_{task}", task),
            *(with_ci(figures, k) for k in _VALIDATION_COLUMNS),
            _number(figures.get("n_records")),
            with_ci(baseline, "macro_f1") if isinstance(baseline, Mapping) else "\u2014",
        ])
    return header, rows


def _statements(text: dict[str, str], interpretation: Mapping[str, Any] | None) -> list[StatementRow]:
    """The interpretation's statements in its order (rhythm first), with their source labels in ``text``'s
    language."""
    return [
        StatementRow(str(s["code"]), str(s["text"]), str(s.get("evidence") or ""),
                     text.get(f"source_{s.get('source')}", str(s.get("source", ""))), str(s.get("severity", "")),
                     bool(s.get("disagreement")))
        for s in (interpretation or {}).get("statements") or ()
    ]


def _intervals(text: dict[str, str], intervals: Mapping[str, Any] | None,
               rhythm: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Rows of the interval table; the rhythm row names the rhythm analysis' call when there is one (else the
    intervals' own regular/irregular/paced label)."""
    if not intervals:
        return []
    rows = []
    for key in _MEASURES:
        if key not in intervals:
            continue
        value = intervals[key]
        unit = next((text[u] for suffix, u in _UNITS.items() if key.endswith(suffix)), "")
        shown = text["not_measured"] if value is None else f"{float(value):.0f} {unit}".replace(" \u00b0", "\u00b0")
        rows.append((text.get(key, key), shown))
    if rhythm:
        rows.append((text["rhythm"], str(rhythm["name"])))
    elif intervals.get("rhythm"):
        rows.append((text["rhythm"], text.get(f"rhythm_{intervals['rhythm']}", str(intervals["rhythm"]))))
    if intervals.get("flags"):
        rows.append((text["measurement_flags"], ", ".join(text.get(f, f) for f in intervals["flags"])))
    return rows


def _quality(text: dict[str, str], quality: Mapping[str, Any]) -> tuple[str, list[str]]:
    verdict = str(quality.get("verdict", ""))
    by_issue: dict[str, list[str]] = {}
    for lead, issues in (quality.get("per_lead") or {}).items():
        for issue in issues:
            by_issue.setdefault(issue, []).append(lead)
    notes = [f"{text.get(f'issue_{issue}', issue)}: {', '.join(leads)}" for issue, leads in by_issue.items()]
    if not notes:
        notes = [str(reason) for reason in quality.get("reasons", ())]
    return text.get(f"quality_{verdict}", verdict), notes


def quality_notes(quality: Mapping[str, Any], lang: str) -> list[str]:
    """The quality check's notes in ``lang``: each issue with the leads that have it (``"flat line: V5, V6"``),
    or the check's own reasons when no lead has an issue; ``quality`` is ``QualityReport.to_dict()``."""
    return _quality(ui_strings(lang), quality)[1]


def _info(text: dict[str, str], record: ECGRecord, result: AnalysisResult, review: Review | None,
          ) -> list[tuple[str, str]]:
    meta = record.meta
    rows = [
        (text["record"], result.record),
        *([(text["doctor"], review.doctor)] if review is not None else []),
        (text["generated"], datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        (text["file_format"], str(meta.get("format", "\u2014"))),
        (text["sampling_rate"], f"{record.fs:g} {text['unit_hz']}"),
        (text["duration"], f"{record.duration_s:.1f} {text['unit_s']}"),
        (text["leads"], " ".join(record.leads)),
    ]
    if meta.get("age") is not None:
        rows.append((text["age"], f"{float(meta['age']):g}"))
    if meta.get("sex"):
        rows.append((text["sex"], str(meta["sex"])))
    rows.append((text["beats_used"], str(result.n_beats)))
    return rows


def build_content(record: ECGRecord, result: AnalysisResult, lang: str, review: Review | None = None,
                  ) -> ReportContent:
    """Resolve and format everything a report shows.

    Parameters
    ----------
    record : ECGRecord
        The record as read from the file (any leads, any rate).
    result : AnalysisResult
        Its analysis; ``result.saliency`` arrays (``(leads, samples)`` at ``result.fs`` over the 12 standard
        leads) are shaded on the plot for the flagged classes.
    lang : str
        ``"en"`` or ``"ru"``.
    review : Review or None
        The doctor's conclusion, when there is one: shown first, and the doctor named among the record's details.
    """
    text = ui_strings(lang)
    shown = _plot_record(record, result.fs)
    shaded = _shaded(result, shown.signal.shape)
    shading = np.max(np.stack(list(shaded.values())), axis=0) if shaded else None
    boundaries = {name: result.fiducials[name] for name in _BOUNDARIES if name in result.fiducials}
    ecg = EcgPanel(shown, np.asarray(result.r_peaks), shading, f"{result.record}   {text['title']}", lang, boundaries)
    caption = text["ecg_caption"]
    if shaded:
        caption += " " + text["ecg_caption_saliency"].format(codes=", ".join(shaded))

    caveats = {p: caveat(p.assessed, p.note, result.quality, lang, result.lang) for p in result.predictions}
    groups: dict[str, list[PredictionRow]] = {}
    for p in sorted(result.predictions, key=lambda p: (not p.assessed, -p.probability)):
        name = describe(p.code, lang)[0]
        figures = (_percent(p.probability), _percent(p.threshold)) if p.assessed else (caveats[p], "\u2014")
        groups.setdefault(text.get(f"task_{p.task}", p.task), []).append(
            PredictionRow(p.code, name, *figures, p.flagged, p.assessed, caveats[p]))

    tasks = validation_tasks(result.model)
    first_by_code: dict[str, Prediction] = {}
    for p in result.flagged:  # most probable first; NORM may be flagged in two tasks
        first_by_code.setdefault(p.code, p)
    findings = []
    for p in first_by_code.values():
        name, description = describe(p.code, lang)
        leads = ""
        if p.code in shaded:
            weight = shaded[p.code].mean(axis=1)
            leads = ", ".join(shown.leads[i] for i in np.argsort(-weight)[:_N_DRIVING_LEADS])
        auc = tasks.get(p.task, {}).get("per_class_auc", {}).get(p.code)
        findings.append(Finding(p.code, name, description, _percent(p.probability), leads, _number(auc),
                                caveats[p]))

    verdict, notes = _quality(text, result.quality)
    header, rows = _validation(text, tasks)
    model = result.model
    not_assessed = not_assessed_codes(result.predictions)
    rhythm, interpretation = result.worded(lang)
    interpretation = with_refusal_worded(interpretation, result.refusal, lang)
    return ReportContent(
        lang=lang,
        text=text,
        info=_info(text, record, result, review),
        summary=None if interpretation is None else str(interpretation["summary"]),
        statements=_statements(text, interpretation),
        ecg=ecg,
        ecg_caption=caption,
        refusal=refusal_text(result.refusal, lang),
        prediction_groups=list(groups.items()),
        findings=findings,
        intervals=_intervals(text, result.intervals, rhythm),
        quality_verdict=verdict,
        quality_notes=notes,
        device_statements=[str(s) for s in record.meta.get("statements") or ()],
        model_info=[(text["model_name"], str(model.get("name", "\u2014"))),
                    (text["model_version"], str(model.get("version", "\u2014"))),
                    (text["backend"], str(model.get("backend", "\u2014"))),
                    *([(text["not_assessed_classes"], ", ".join(not_assessed))] if not_assessed else [])],
        validation_header=header,
        validation_rows=rows,
        review=review,
        review_verdicts=[f"{code} \u2014 {describe(code, lang)[0]}: {text['verdict_' + verdict]}"
                         for code, verdict in (review.verdicts if review is not None else ())],
    )
