"""PDF report drawn with matplotlib (no browser, no network): the printout at true scale, then text pages.

Page 1 is A4 landscape with the research-use notice, the interpretation (summary line, then the statements) and
the 12-lead printout at 25 mm/s and 10 mm/mV; the following A4 portrait pages open with the full interpretation
(each statement's evidence and source) and carry the findings table, descriptions, intervals, quality, the
device's own statements and the model's validation figures. Every page repeats the notice.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cardioscreen.record import ECGRecord
from cardioscreen.report.content import ReportContent, Review, build_content
from cardioscreen.report.paper import MM_PER_INCH
from cardioscreen.result import AnalysisResult

__all__ = ["render_pdf"]

A4_MM = (210.0, 297.0)
_MARGIN_MM = 16.0
_FOOTER_MM = 16.0
_PT_TO_MM = 25.4 / 72.0
_CHAR_EM = 0.6
"""Width of an average character in ems (DejaVu Sans runs about 0.55), for wrapping text to a width in mm."""
_LINE_SPACING = 1.4
_NOTICE_COLOR = "#b00020"
_NOTICE_FILL = "#fdecee"
_FLAG_FILL = "#fff1e0"
_CAVEAT_COLOR = "#8a6d00"
"""Caveats of an output (leads left out of the analysis): amber, not the notice's red."""
_FIRST_PAGE_INFO = 3
"""Record, generation time and file format head page 1; the rest of the record's details are on page 2."""
_FIRST_PAGE_ROWS = 3
"""Lines of statements per column on page 1 (two columns fit between the notice and the printout); the full
interpretation, with every statement's evidence, opens page 2."""


def _page(width_mm: float, height_mm: float) -> tuple[Figure, Axes]:
    """A blank page whose axes' data units are millimetres from the bottom-left corner."""
    fig = Figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width_mm)
    ax.set_ylim(0.0, height_mm)
    ax.set_axis_off()
    return fig, ax


def _wrap(text: str, width_mm: float, size_pt: float) -> list[str]:
    chars = max(8, int(width_mm / (size_pt * _PT_TO_MM * _CHAR_EM)))
    return textwrap.wrap(text, chars, break_long_words=False) or [""]


def _line_mm(size_pt: float) -> float:
    return size_pt * _PT_TO_MM * _LINE_SPACING


def _notice(ax: Axes, content: ReportContent, x: float, y_top: float, width: float, detail: bool) -> float:
    """Draw the research-use notice box under ``y_top``; returns the y of its bottom edge."""
    lines = _wrap(content.text["notice_detail"], width - 6.0, 7.5) if detail else []
    height = 8.0 + len(lines) * _line_mm(7.5)
    ax.add_patch(Rectangle((x, y_top - height), width, height, facecolor=_NOTICE_FILL, edgecolor=_NOTICE_COLOR,
                           linewidth=1.5))
    ax.text(x + 3.0, y_top - 4.5, content.text["notice"], fontsize=10, fontweight="bold", color=_NOTICE_COLOR,
            va="center")
    for i, line in enumerate(lines):
        ax.text(x + 3.0, y_top - 8.5 - i * _line_mm(7.5), line, fontsize=7.5, color=_NOTICE_COLOR, va="center")
    return y_top - height


class _TextPages:
    """A4 portrait pages filled top to bottom with headings, paragraphs and tables."""

    def __init__(self, content: ReportContent) -> None:
        self.content = content
        self.pages: list[tuple[Figure, Axes]] = []
        self.width = A4_MM[0] - 2 * _MARGIN_MM
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        """A new page under the notice (in full on the first text page, its headline on the others)."""
        fig, ax = _page(*A4_MM)
        self.pages.append((fig, ax))
        detail = len(self.pages) == 1
        self.y = _notice(ax, self.content, _MARGIN_MM, A4_MM[1] - _MARGIN_MM, self.width, detail=detail) - 6.0

    @property
    def ax(self) -> Axes:
        return self.pages[-1][1]

    def _room(self, height: float) -> None:
        if self.y - height < _FOOTER_MM + 4.0:
            self._new_page()

    def heading(self, text: str, size: float = 12.0) -> None:
        self._room(3 * _line_mm(size))
        self.y -= _line_mm(size) * 0.6
        self.ax.text(_MARGIN_MM, self.y, text, fontsize=size, fontweight="bold", va="top")
        self.y -= _line_mm(size)

    def paragraph(self, text: str, size: float = 9.0, color: str = "#1d1d1f", indent: float = 0.0) -> None:
        for line in _wrap(text, self.width - indent, size):
            self._room(_line_mm(size))
            self.ax.text(_MARGIN_MM + indent, self.y, line, fontsize=size, color=color, va="top")
            self.y -= _line_mm(size)
        self.y -= _line_mm(size) * 0.3

    def table(self, rows: list[list[str]], widths: list[float], header: bool = True,
              highlight: frozenset[int] = frozenset(), size: float = 8.5) -> None:
        """Rows of cells, columns ``widths`` mm wide (cells wrap); row 0 is bold when ``header``."""
        for r, row in enumerate(rows):
            cells = [_wrap(cell, w - 2.0, size) for cell, w in zip(row, widths, strict=True)]
            height = max(len(c) for c in cells) * _line_mm(size) + 1.5
            self._room(height)
            if r in highlight or (header and r == 0):
                self.ax.add_patch(Rectangle((_MARGIN_MM, self.y - height), sum(widths), height, linewidth=0,
                                            facecolor=_FLAG_FILL if r in highlight else "#f0f0f3"))
            x = _MARGIN_MM
            bold = (header and r == 0) or r in highlight
            for lines, w in zip(cells, widths, strict=True):
                for i, line in enumerate(lines):
                    self.ax.text(x + 1.0, self.y - 0.8 - i * _line_mm(size), line, fontsize=size, va="top",
                                 fontweight="bold" if bold else "normal")
                x += w
            self.y -= height
            self.ax.plot([_MARGIN_MM, _MARGIN_MM + sum(widths)], [self.y, self.y], color="#d8d8dc", linewidth=0.5)
        self.y -= 3.0


def _clip(text: str, width_mm: float, size_pt: float) -> str:
    """``text`` cut to one line of ``width_mm`` at ``size_pt`` (an ellipsis marks a cut)."""
    chars = max(8, int(width_mm / (size_pt * _PT_TO_MM * _CHAR_EM)))
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "\u2026"


def _statement_line(content: ReportContent, index: int) -> tuple[str, str, bool]:
    """Statement ``index`` as one printed line: its text (with the disagreement mark), then evidence and source."""
    statement = content.statements[index]
    mark = f" \u2260 {content.text['disagreement']}" if statement.disagreement else ""
    detail = "; ".join(part for part in (statement.evidence, statement.source) if part)
    return f"{index + 1}. {statement.text}{mark}", detail, statement.severity == "urgent"


def _interpretation_block(ax: Axes, content: ReportContent, x: float, y_top: float, width: float) -> None:
    """The summary (one line, or two taking the place of a row of statements), then the statements in two columns
    of :data:`_FIRST_PAGE_ROWS` lines under ``y_top``."""
    if content.summary is None:
        ax.text(x, y_top, content.text["no_interpretation"], fontsize=9, fontweight="bold", va="top")
        return
    summary = _wrap(content.summary, width, 9.5)
    if len(summary) > 2:
        summary = [summary[0], _clip(" ".join(summary[1:]), width, 9.5)]
    for i, line in enumerate(summary):
        ax.text(x, y_top - i * _line_mm(9.5), line, fontsize=9.5, fontweight="bold", va="top")
    top = y_top - len(summary) * _line_mm(9.5)
    rows = _FIRST_PAGE_ROWS - (len(summary) - 1)
    slots = rows * 2
    shown = len(content.statements) if len(content.statements) <= slots else slots - 1
    column = width / 2
    for i in range(shown):
        head, detail, urgent = _statement_line(content, i)
        left = x + (i // rows) * column
        y = top - (i % rows) * _line_mm(7.0)
        head = _clip(head, column - 4.0, 7.0)
        ax.text(left, y, head, fontsize=7.0, fontweight="bold", va="top", color=_NOTICE_COLOR if urgent else "black")
        head_mm = (len(head) + 2) * 7.0 * _PT_TO_MM * _CHAR_EM
        room = column - 4.0 - head_mm
        if detail and room > 15.0:
            ax.text(left + head_mm, y, _clip(detail, room, 6.5), fontsize=6.5, va="top", color="#55555a")
    if shown < len(content.statements):
        left, y = x + column, top - (rows - 1) * _line_mm(7.0)
        ax.text(left, y, content.text["statements_continued"].format(count=len(content.statements) - shown),
                fontsize=7.0, style="italic", va="top", color="#55555a")


def _first_page(content: ReportContent) -> Figure:
    """A4 landscape: the notice with the record's id, the interpretation, then the printout at true scale."""
    width, height = A4_MM[1], A4_MM[0]
    fig, ax = _page(width, height)
    bottom = _notice(ax, content, 10.0, height - 4.0, width - 20.0, detail=False)
    info = "   ".join(f"{label}: {value}" for label, value in content.info[: _FIRST_PAGE_INFO])
    ax.text(width - 13.0, bottom + 4.0, info, fontsize=7.0, ha="right", va="center")
    _interpretation_block(ax, content, 12.0, bottom - 1.5, width - 24.0)
    ecg_w, ecg_h = 265.0, 180.0
    ecg_ax = fig.add_axes(((width - ecg_w) / 2 / width, 0.0, ecg_w / width, ecg_h / height))
    content.ecg.draw(ax=ecg_ax)
    return fig


def _fill_text_pages(content: ReportContent) -> list[Figure]:
    text = content.text
    doc = _TextPages(content)
    if content.review is not None:
        doc.heading(text["doctor_conclusion"], size=14)
        for line in content.review.text.splitlines() or [""]:
            doc.paragraph(line, size=11)
        doc.paragraph(f"{text['doctor']}: {content.review.doctor}   {text['concluded_at']}: "
                      f"{content.review.concluded_at}", size=8, color="#55555a")
        for line in content.review_verdicts:
            doc.paragraph(f"\u2022 {line}", indent=3.0)
    doc.heading(text["interpretation"], size=14)
    if content.summary is None:
        doc.paragraph(text["no_interpretation"])
    else:
        doc.paragraph(content.summary, size=11)
        rows = [[text["statement"], text["evidence"], text["source"]]]
        rows += [[s.text + (f" \u2260 {text['disagreement']}" if s.disagreement else ""), s.evidence, s.source]
                 for s in content.statements]
        urgent = frozenset(i + 1 for i, s in enumerate(content.statements) if s.severity == "urgent" or s.disagreement)
        doc.table(rows, [62.0, doc.width - 94.0, 32.0], highlight=urgent)
        doc.paragraph(text["interpretation_note"], size=8, color="#55555a")
    doc.paragraph(content.ecg_caption, size=8, color="#55555a")
    doc.heading(text["title"], size=14)
    doc.table([[label, value] for label, value in content.info], [45.0, doc.width - 45.0], header=False)
    if content.refusal:
        doc.heading(text["refusal"])
        doc.paragraph(content.refusal)
    else:
        doc.heading(text["predictions"])
        doc.paragraph(text["probability_note"], size=8, color="#55555a")
        for group, predictions in content.prediction_groups:
            doc.heading(group, size=10)
            rows = [[text["code"], text["class_name"], text["probability"], text["threshold"], text["flag"]]]
            rows += [[p.code, f"{p.name} \u2014 {p.note}" if p.note and p.assessed else p.name, p.probability,
                      p.threshold, text["flagged"] if p.flagged else text["not_flagged"]] for p in predictions]
            flagged = frozenset(i + 1 for i, p in enumerate(predictions) if p.flagged)
            doc.table(rows, [20.0, doc.width - 94.0, 26.0, 22.0, 26.0], highlight=flagged)
        doc.heading(text["descriptions"])
        if not content.findings:
            doc.paragraph(text["no_findings"])
        for finding in content.findings:
            doc.heading(f"{finding.name} ({finding.code}) \u2014 {finding.probability}", size=10)
            if finding.note:
                doc.paragraph(finding.note, size=8, color=_CAVEAT_COLOR)
            doc.paragraph(finding.text)
            if finding.driving_leads:
                doc.paragraph(f"{text['driving_leads']}: {finding.driving_leads}", size=8, color="#55555a")
            if finding.class_auc != "\u2014":
                doc.paragraph(f"{text['class_auc']}: {finding.class_auc}", size=8, color="#55555a")
    if content.intervals:
        doc.heading(text["intervals"])
        doc.table([list(row) for row in content.intervals], [60.0, doc.width - 60.0], header=False)
    doc.heading(text["quality"])
    doc.paragraph(f"{text['verdict']}: {content.quality_verdict}")
    for note in content.quality_notes or [text["no_quality_notes"]]:
        doc.paragraph(f"\u2022 {note}", indent=3.0)
    if content.device_statements:
        doc.heading(text["device_statements"])
        doc.paragraph(text["device_statements_note"], size=8, color="#55555a")
        for statement in content.device_statements:
            doc.paragraph(f"\u2022 {statement}", indent=3.0)
    doc.heading(text["model"])
    doc.table([list(row) for row in content.model_info], [45.0, doc.width - 45.0], header=False)
    doc.heading(text["validation"], size=10)
    if content.validation_rows:
        first = 22.0
        rest = (doc.width - first) / (len(content.validation_header) - 1)
        doc.table([content.validation_header, *content.validation_rows],
                  [first] + [rest] * (len(content.validation_header) - 1), size=6.5)
    else:
        doc.paragraph(text["no_validation"])
    return [fig for fig, _ in doc.pages]


def render_pdf(record: ECGRecord, result: AnalysisResult, path: str | Path, lang: str = "en",
               review: Review | None = None) -> Path:
    """Write the report of ``result`` as a PDF at ``path`` (with the doctor's ``review`` first when given);
    returns the path."""
    path = Path(path)
    content = build_content(record, result, lang, review)
    figures = [_first_page(content), *_fill_text_pages(content)]
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Title": f"{content.text['title']} \u2014 {result.record}", "Creator": "CardioScreen"}
    with PdfPages(path, metadata=metadata) as pdf:
        for number, fig in enumerate(figures, start=1):
            width_mm = fig.get_size_inches()[0] * MM_PER_INCH
            fig.text(1.0 - 10.0 / width_mm, 0.012, content.text["page"].format(page=number, pages=len(figures)),
                     fontsize=7, ha="right", va="bottom", color="#55555a")
            pdf.savefig(fig)
    return path
