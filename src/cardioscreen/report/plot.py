"""The 12-lead ECG printout: 3 x 4 grid of 2.5 s segments plus a lead II rhythm strip, on ECG paper.

Drawn with matplotlib's object API (``matplotlib.figure.Figure``, rendered by Agg), never pyplot, so
plotting needs no display and keeps no global state. A record that lacks the 12 standard leads (a
2-lead Holter record, a single-lead strip) is drawn as one full-width strip per lead instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnchoredOffsetbox, HPacker, TextArea

from cardioscreen.errors import ECGFormatError
from cardioscreen.record import ECGRecord
from cardioscreen.report.descriptions import ui_strings
from cardioscreen.report.paper import MM_PER_INCH, PaperStyle, draw_calibration, draw_grid

logger = logging.getLogger(__name__)

__all__ = ["FIDUCIAL_STYLES", "GRID_LAYOUT", "RHYTHM_LEAD", "plot_ecg"]

GRID_LAYOUT: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
"""Leads of the 3 x 4 grid, row by row; each column shows the next 2.5 s of the record."""
RHYTHM_LEAD = "II"

FIDUCIAL_STYLES: dict[str, tuple[str, str]] = {
    "p_on": ("#1a9641", "P"), "p_peak": ("#1a9641", "P"), "p_off": ("#1a9641", "P"),
    "qrs_on": ("#2b59c3", "QRS"), "qrs_off": ("#2b59c3", "QRS"),
    "t_peak": ("#8e3bb5", "T"), "t_off": ("#8e3bb5", "T"),
}
"""Fiducial names accepted by :func:`plot_ecg` -> (colour, wave label)."""

_SEGMENT_S = 2.5
_CAL_MM = 10.0
_RIGHT_MM = 5.0
_ROW_MM = 40.0
_TOP_MM = 10.0
_BOTTOM_MM = 10.0
_BASELINE_FRACTION = 0.45
_PEAK_COLOR = "#2b59c3"
_SALIENCY_RGB = (0.95, 0.55, 0.05)
_SALIENCY_MAX_ALPHA = 0.55


@dataclass(frozen=True)
class _Trace:
    """One stretch of one lead placed on the paper."""

    lead: str
    start: int
    stop: int
    x0_mm: float
    baseline_mm: float
    band: tuple[float, float]
    markers: bool

    @property
    def gid(self) -> str:
        """Identifier of the drawn artists: ``"V1@1250"`` for a grid segment, ``"rhythm II@0"`` for a strip."""
        return f"{'rhythm ' if self.markers else ''}{self.lead}@{self.start}"


@dataclass(frozen=True)
class _Context:
    """What is drawn over the traces, checked and keyed by lead."""

    r_peaks: np.ndarray | None
    shading: dict[str, np.ndarray]
    fiducials: dict[str, np.ndarray]


def _grid_traces(record: ECGRecord, start: int, style: PaperStyle) -> list[_Trace]:
    seg = int(round(_SEGMENT_S * record.fs))
    n_rows = len(GRID_LAYOUT) + 1
    traces = []
    for row, leads in enumerate(GRID_LAYOUT):
        band = _band(row, n_rows)
        for col, lead in enumerate(leads):
            lo = start + col * seg
            traces.append(_Trace(lead, lo, min(lo + seg, record.n_samples), _CAL_MM + col * _SEGMENT_S
                                 * style.speed_mm_s, _baseline(band), band, False))
    band = _band(n_rows - 1, n_rows)
    stop = min(start + len(GRID_LAYOUT[0]) * seg, record.n_samples)
    traces.append(_Trace(RHYTHM_LEAD, start, stop, _CAL_MM, _baseline(band), band, True))
    return traces


def _strip_traces(record: ECGRecord, start: int, window: int) -> list[_Trace]:
    stop = min(start + window, record.n_samples)
    return [
        _Trace(lead, start, stop, _CAL_MM, _baseline(_band(i, record.n_leads)), _band(i, record.n_leads), True)
        for i, lead in enumerate(record.leads)
    ]


def _band(row: int, n_rows: int) -> tuple[float, float]:
    bottom = _BOTTOM_MM + (n_rows - 1 - row) * _ROW_MM
    return bottom, bottom + _ROW_MM


def _baseline(band: tuple[float, float]) -> float:
    return round(band[0] + _BASELINE_FRACTION * _ROW_MM)


def _by_lead(name: str, values: np.ndarray | None, leads: Sequence[str], n_samples: int) -> dict[str, np.ndarray]:
    if values is None:
        return {}
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (len(leads), n_samples):
        raise ECGFormatError(f"{name} must be shaped (leads, samples) = {(len(leads), n_samples)}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ECGFormatError(f"{name} has NaN or infinite values")
    return {lead: np.clip(arr[i], 0.0, 1.0) for i, lead in enumerate(leads)}


def _check_fiducials(fiducials: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    if fiducials is None:
        return {}
    unknown = sorted(set(fiducials) - set(FIDUCIAL_STYLES))
    if unknown:
        raise ECGFormatError(f"unknown fiducials {unknown}; known: {', '.join(FIDUCIAL_STYLES)}")
    return {name: np.asarray(idx, dtype=np.float64).ravel() for name, idx in fiducials.items()}


def _draw_trace(ax: Axes, record: ECGRecord, trace: _Trace, style: PaperStyle, context: _Context) -> None:
    values = record.lead(trace.lead)[trace.start : trace.stop].astype(np.float64)
    if values.size == 0:
        return
    offset = float(np.median(values))
    xs = trace.x0_mm + np.arange(values.size) / record.fs * style.speed_mm_s
    ys = trace.baseline_mm + (values - offset) * style.gain_mm_mv
    ax.plot(xs, ys, color=style.trace_color, linewidth=style.trace_width_pt, zorder=3, gid=trace.gid)
    ax.text(trace.x0_mm + 1.0, trace.band[1] - 4.0, trace.lead, fontsize=8, fontweight="bold", zorder=4,
            va="center", ha="left")
    x_end = xs[-1] + style.speed_mm_s / record.fs
    if trace.x0_mm > _CAL_MM:
        ax.plot([trace.x0_mm] * 2, [trace.baseline_mm - 3, trace.baseline_mm + 3], color=style.trace_color,
                linewidth=style.trace_width_pt, zorder=3)
    weights = context.shading.get(trace.lead)
    if weights is not None:
        alpha = weights[trace.start : trace.stop] * _SALIENCY_MAX_ALPHA
        rgba = np.empty((1, alpha.size, 4))
        rgba[..., :3] = _SALIENCY_RGB
        rgba[0, :, 3] = alpha
        ax.imshow(rgba, extent=(trace.x0_mm, x_end, trace.band[0] + 1, trace.band[1] - 1), aspect="auto",
                  interpolation="bilinear", zorder=2, gid=f"saliency {trace.gid}")
    if not trace.markers:
        return

    def to_x(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = idx[np.isfinite(idx)]
        idx = idx[(idx >= trace.start) & (idx < trace.stop)].astype(np.int64)
        return trace.x0_mm + (idx - trace.start) / record.fs * style.speed_mm_s, idx - trace.start

    if context.r_peaks is not None:
        px, _ = to_x(context.r_peaks)
        ax.plot(px, np.full(px.size, trace.band[0] + 2.5), linestyle="none", marker="^", markersize=4,
                color=_PEAK_COLOR, zorder=4, gid=f"r_peaks@{trace.lead}")
    for name, idx in context.fiducials.items():
        fx, local = to_x(idx)
        ax.plot(fx, ys[local], linestyle="none", marker="|", markersize=7, markeredgewidth=1.2,
                color=FIDUCIAL_STYLES[name][0], zorder=5, gid=f"{name}@{trace.lead}")


def _legend(
    ax: Axes, record: ECGRecord, context: _Context, style: PaperStyle, width_mm: float, text: dict[str, str]
) -> None:
    scale = text["legend_scale"].format(speed=style.speed_mm_s, gain=style.gain_mm_mv, fs=record.fs)
    ax.text(_CAL_MM, _BOTTOM_MM / 2, scale, fontsize=7.5, va="center", ha="left")
    items: list[tuple[str, str]] = []
    if context.r_peaks is not None:
        items.append((f"\u25b2 {text['legend_r_peak']}", _PEAK_COLOR))
    waves = {label: color for name, (color, label) in FIDUCIAL_STYLES.items() if name in context.fiducials}
    items.extend((f"| {text['legend_wave_marks'].format(wave=label)}", color) for label, color in waves.items())
    if context.shading:
        items.append((f"\u2588 {text['legend_saliency']}", to_hex(_SALIENCY_RGB)))
    if not items:
        return
    boxes: list[Artist] = [TextArea(label, textprops={"color": color, "fontsize": 7.5}) for label, color in items]
    packed = HPacker(children=boxes, align="center", pad=0, sep=12)
    anchored = AnchoredOffsetbox(loc="center right", child=packed, frameon=False, pad=0, borderpad=0,
                                 bbox_to_anchor=(width_mm - _RIGHT_MM, _BOTTOM_MM / 2),
                                 bbox_transform=ax.transData)
    ax.add_artist(anchored)


def plot_ecg(
    record: ECGRecord,
    *,
    r_peaks: np.ndarray | None = None,
    shading: np.ndarray | None = None,
    fiducials: Mapping[str, np.ndarray] | None = None,
    start_s: float = 0.0,
    window_s: float = 10.0,
    title: str | None = None,
    style: PaperStyle | None = None,
    lang: str = "en",
    ax: Axes | None = None,
) -> Figure:
    """Draw a record as a clinical ECG printout.

    Parameters
    ----------
    record : ECGRecord
        The record; 12-lead layout when it has (or can derive) the 12 standard leads, one strip per
        lead otherwise. Each lead is centred on its median over the plotted window; pass a cleaned
        record for a clinical-looking trace.
    r_peaks : np.ndarray, optional
        R-peak sample indices at ``record.fs``, marked under the rhythm strip(s).
    shading : np.ndarray, optional
        Saliency, shape ``(leads, samples)`` in the order of ``record.leads``, values in [0, 1] (clipped),
        drawn as a translucent orange overlay whose opacity follows the value.
    fiducials : mapping, optional
        Wave boundaries: name (a key of :data:`FIDUCIAL_STYLES`, e.g. ``"p_on"``, ``"qrs_off"``, ``"t_off"``)
        -> sample indices at ``record.fs`` (NaN entries are skipped), marked on the rhythm strip(s).
    start_s, window_s : float
        The stretch of the record drawn, in seconds. The 12-lead layout always shows 10 s from ``start_s``
        (four 2.5 s columns; ``window_s`` applies to the strip layout only).
    title : str, optional
        Header line printed above the grid.
    style : PaperStyle, optional
        Paper speed, gain and colours (default 25 mm/s, 10 mm/mV).
    lang : str
        Language of the legend, ``"en"`` or ``"ru"``.
    ax : Axes, optional
        Draw into this axes (its data units become millimetres); by default a new figure sized to
        print at true scale.

    Returns
    -------
    Figure
        The figure drawn into.
    """
    style = style or PaperStyle()
    text = ui_strings(lang)
    if not window_s > 0 or start_s < 0 or start_s >= record.duration_s:
        raise ECGFormatError(f"cannot plot {window_s} s from {start_s} s of a {record.duration_s:.1f} s record")
    context = _Context(
        None if r_peaks is None else np.asarray(r_peaks, dtype=np.float64).ravel(),
        _by_lead("shading", shading, record.leads, record.n_samples),
        _check_fiducials(fiducials),
    )
    start = int(round(start_s * record.fs))
    try:
        shown = record.to_standard12()
        twelve = True
    except ECGFormatError:
        shown, twelve = record, False
    if twelve:
        window_s = len(GRID_LAYOUT[0]) * _SEGMENT_S
        traces = _grid_traces(shown, start, style)
        n_rows = len(GRID_LAYOUT) + 1
    else:
        traces = _strip_traces(shown, start, int(round(window_s * record.fs)))
        n_rows = shown.n_leads
    width_mm = _CAL_MM + window_s * style.speed_mm_s + _RIGHT_MM
    height_mm = _BOTTOM_MM + n_rows * _ROW_MM + _TOP_MM
    if ax is None:
        fig = Figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    draw_grid(ax, width_mm, height_mm, style)
    for baseline in sorted({t.baseline_mm for t in traces}):
        draw_calibration(ax, 1.0, baseline, style)
    for trace in traces:
        _draw_trace(ax, shown, trace, style, context)
    if title:
        ax.text(_CAL_MM, height_mm - _TOP_MM / 2, title, fontsize=9, fontweight="bold", va="center", ha="left")
    _legend(ax, record, context, style, width_mm, text)
    logger.debug("plotted %s: %s layout, %d traces", record.meta.get("record_id", "record"),
                 "12-lead" if twelve else "strip", len(traces))
    figure = ax.get_figure()
    if not isinstance(figure, Figure):
        raise TypeError("the axes given to plot_ecg must belong to a Figure")
    return figure
