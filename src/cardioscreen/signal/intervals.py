"""ECG intervals of a record: heart rate, RR variability, P, PR, QRS, QT, QTc and frontal axes, with flags.

The frontal QRS axis comes from the net QRS deflections in I and aVF (on LUDB its order agrees better with the
cardiologists' axis categories than the net areas: Spearman 0.79 against 0.73); the P and T axes from net areas,
the T wave's against the level at QRS onset (isoelectric), not at the J point, so ST shifts do not turn it.
Each interval is the median over the record's normal beats of the per-beat value from the multi-lead
delineation (:func:`cardioscreen.signal.delineate.ecg_delineate`). A value that cannot be measured is
``None`` with a reason, never a guess: no PR in atrial fibrillation / flutter (irregular RR and no consistent
P wave) or under ventricular pacing, no QT without a T wave, nothing on an unusable record. Ectopic beats
(premature, or a QRS unlike the record's usual one) are left out of the medians.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.signal.delineate import Delineation, ecg_delineate
from cardioscreen.signal.delineation.fiducials import cut_windows, median, nanmedian
from cardioscreen.signal.delineation.pacing import SPIKE_QRS_WINDOW_S, pacing_spikes
from cardioscreen.signal.quality import QualityReport, ecg_quality
from cardioscreen.signal.spectral import bandpass

__all__ = ["IntervalLimits", "Intervals", "ecg_intervals", "paced_beats", "pacing_pulses",
           "ventricular_paced"]

SPIKE_METHODS = ("dsp", "hybrid")
"""Delineation methods that search the signal for pacing spikes (their ``pacing_spikes`` is the whole answer)."""
SPIKE_MIN_LEAD_S = 0.02
"""A spike at least this long (s) before the R-peak is taken as it is; a later one must be a pulse (below)."""
SPIKE_RETURN_S = 0.01
"""A pacing spike is a pulse: this long (s) after its start the signal is back near its level before it."""
SPIKE_RETURN = 0.8
"""... at most this fraction of the pulse's largest excursion away, on the leads where it is largest (a steep QRS
upstroke, which unpaced records with tall narrow R waves gave as a 'spike' 4-14 ms before the R-peak, keeps
rising: 1.0 on both such PTB-XL records, 0.06-0.72 on 20 of 21 paced records with spikes found, where the R-peak
often lies on the spike itself)."""
SPIKE_LEADS = 4
MEDOID_BEATS = 200
"""At most this many beats (evenly spaced) are compared pairwise to find the dominant QRS morphology."""


@dataclass(frozen=True)
class IntervalLimits:
    """Limits behind the measurement flags and the rhythm checks (ms, degrees, ratios).

    An irregular RR (median successive difference above ``irregular_rr`` of the median RR) is taken for atrial
    fibrillation or flutter unless the beats that are not premature show a P wave: found before at least
    ``p_present`` of them, alike from beat to beat (median correlation at least ``p_consistency``). Premature
    atrial beats, whose P waves differ, are left out of that check, so sinus rhythm with them keeps its PR.
    """

    pr_ms: float = 200.0
    qrs_ms: float = 120.0
    qtc_male_ms: float = 450.0
    qtc_female_ms: float = 460.0
    left_axis_deg: float = -30.0
    right_axis_deg: float = 90.0
    irregular_rr: float = 0.12
    p_consistency: float = 0.85
    p_present: float = 0.5
    ectopic_corr: float = 0.9
    premature_ratio: float = 0.8
    min_beat_fraction: float = 0.5

    def __post_init__(self) -> None:
        if not self.left_axis_deg < self.right_axis_deg:
            raise ValueError("left_axis_deg must be below right_axis_deg")
        for name in ("irregular_rr", "p_consistency", "p_present", "ectopic_corr", "premature_ratio",
                     "min_beat_fraction"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in (0, 1]")


@dataclass(frozen=True)
class Intervals:
    """Intervals of one record (durations in ms, axes in degrees, ``None`` where not measurable).

    ``beats_used`` gives, per measure, the number of beats its median is taken over; ``reasons`` gives,
    per ``None`` measure, why it is missing; ``flags`` lists the measurement findings (``pr_prolonged``,
    ``qrs_wide``, ``qtc_prolonged``, ``left_axis_deviation``, ``right_axis_deviation``). ``delineation`` is
    the delineation the values were measured on (``None`` when the record gave no values before delineating),
    so that a plot can mark the P, QRS and T boundaries without delineating again; ``normal_beats`` (shape
    ``(n_beats,)``, bool) marks its beats the medians were taken over, so that amplitudes can be measured on the
    same beats. Neither is part of :meth:`to_dict`, the repr or comparisons.
    """

    hr_bpm: float | None
    rr_sdnn_ms: float | None
    rr_rmssd_ms: float | None
    p_ms: float | None
    pr_ms: float | None
    qrs_ms: float | None
    qt_ms: float | None
    qtc_bazett_ms: float | None
    qtc_fridericia_ms: float | None
    qtc_framingham_ms: float | None
    p_axis_deg: float | None
    qrs_axis_deg: float | None
    t_axis_deg: float | None
    n_beats: int
    n_beats_total: int
    n_ectopic: int
    rhythm: str
    paced: bool
    flags: tuple[str, ...]
    beats_used: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    method: str = "hybrid"
    delineation: Delineation | None = field(default=None, repr=False, compare=False)
    normal_beats: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; keys include hr_bpm, p_ms, pr_ms, qrs_ms, qt_ms, qtc_*_ms, *_axis_deg, n_beats.

        The :attr:`delineation` (P, QRS and T boundaries of every beat, for plots) and :attr:`normal_beats` are left
        out.
        """
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("delineation", "normal_beats")}
        out["beats_used"], out["reasons"] = dict(self.beats_used), dict(self.reasons)
        out["flags"] = list(self.flags)
        return out


_MEASURES = (
    "hr_bpm", "rr_sdnn_ms", "rr_rmssd_ms", "p_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms",
    "qtc_fridericia_ms", "qtc_framingham_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg",
)


def _empty(n_total: int, reason: str, method: str) -> Intervals:
    nulls: dict[str, Any] = dict.fromkeys(_MEASURES)
    return Intervals(
        **nulls, n_beats=0, n_beats_total=n_total, n_ectopic=0, rhythm="unknown",
        paced=False, flags=(), reasons=dict.fromkeys(_MEASURES, reason), method=method,
    )


def paced_beats(spikes: np.ndarray, r_peaks: np.ndarray, fs: float, lead_s: float = 0.0) -> np.ndarray:
    """Beats whose R-peak follows a spike by ``lead_s`` to ``lead_s + SPIKE_QRS_WINDOW_S`` seconds.

    Parameters
    ----------
    spikes : np.ndarray
        Sample indices of pacing spikes, sorted.
    r_peaks : np.ndarray
        ``(n_beats,)`` R-peak sample indices.
    fs : float
        Sampling rate in Hz.
    lead_s : float
        Least time from spike to R-peak (0 for ventricular pacing; an atrial spike comes an AV delay earlier).

    Returns
    -------
    np.ndarray
        ``(n_beats,)`` bool.
    """
    r = np.asarray(r_peaks, dtype=np.int64) - round(lead_s * fs)
    s = np.asarray(spikes, dtype=np.int64)
    if s.size == 0 or r.size == 0:
        return np.zeros(r.size, dtype=bool)
    pos = np.searchsorted(s, r, side="right") - 1
    delay = r - s[np.clip(pos, 0, None)]
    return np.asarray((pos >= 0) & (delay <= SPIKE_QRS_WINDOW_S * fs))


def pacing_pulses(sig: np.ndarray, fs: float, spikes: np.ndarray) -> np.ndarray:
    """The pacing spikes (of :func:`~cardioscreen.signal.delineation.pacing.pacing_spikes`) that are pulses.

    Parameters
    ----------
    sig : np.ndarray
        ``(leads, samples)`` mV, the signal the spikes were found in.
    fs : float
        Sampling rate in Hz.
    spikes : np.ndarray
        Sample indices where spikes start.

    Returns
    -------
    np.ndarray
        The spikes whose excursion (on the ``SPIKE_LEADS`` leads where it is largest) has come back to at most
        ``SPIKE_RETURN`` of itself ``SPIKE_RETURN_S`` after the start.
    """
    x = np.atleast_2d(np.asarray(sig, dtype=float))
    s = np.asarray(spikes, dtype=np.int64)
    w = max(2, round(SPIKE_RETURN_S * fs))
    s = s[(s >= 2) & (s + w < x.shape[-1])]
    if s.size == 0:
        return s
    excursion = np.abs(x[:, s[:, None] + np.arange(-1, w + 1)] - x[:, s - 2][:, :, None])  # (leads, spikes, w+2)
    peak, end = excursion.max(axis=2), excursion[:, :, -1]
    top = np.argsort(-peak, axis=0)[: min(SPIKE_LEADS, x.shape[0])]
    ratio = np.take_along_axis(end, top, axis=0) / np.maximum(np.take_along_axis(peak, top, axis=0), 1e-9)
    return s[median(ratio, axis=0) <= SPIKE_RETURN]


def ventricular_paced(sig: np.ndarray, fs: float, spikes: np.ndarray, r_peaks: np.ndarray) -> np.ndarray:
    """Beats after a ventricular pacing spike: one at least ``SPIKE_MIN_LEAD_S`` before the R-peak, or a pulse
    (:func:`pacing_pulses`) closer to it, within ``SPIKE_QRS_WINDOW_S``.

    Parameters
    ----------
    sig : np.ndarray
        ``(leads, samples)`` mV, the signal the spikes were found in.
    fs : float
        Sampling rate in Hz.
    spikes : np.ndarray
        Sample indices where spikes start (:func:`~cardioscreen.signal.delineation.pacing.pacing_spikes`).
    r_peaks : np.ndarray
        ``(n_beats,)`` R-peak sample indices.

    Returns
    -------
    np.ndarray
        ``(n_beats,)`` bool.
    """
    s = np.sort(np.asarray(spikes, dtype=np.int64))
    return paced_beats(s, r_peaks, fs, SPIKE_MIN_LEAD_S) | paced_beats(pacing_pulses(sig, fs, s), r_peaks, fs)


def _beat_windows(x: np.ndarray, centres: np.ndarray, before: int, after: int) -> np.ndarray:
    """Samples ``centre - before .. centre + after - 1`` of every lead per beat, ``(beats, leads * window)``."""
    return cut_windows(x, centres - before, before + after).reshape(centres.size, -1)


def _template_corr(segs: np.ndarray, medoid: bool = False) -> np.ndarray:
    """Correlation of each row of ``segs`` (beats, features) with the template.

    The template is the rows' median, or with ``medoid`` the row most alike the others (the dominant
    morphology, which a median would blur when two kinds of beats mix). The products go through ``einsum``,
    not BLAS: a multi-threaded BLAS spends far longer starting its threads than these small products take
    (tens of ms on a busy machine for 20 beats).
    """
    segs = segs - segs.mean(axis=1, keepdims=True)
    unit = segs / (np.linalg.norm(segs, axis=1, keepdims=True) + 1e-12)
    if medoid:
        sample = unit[:: max(1, unit.shape[0] // MEDOID_BEATS)]
        tmpl = sample[int(np.argmax(median(np.einsum("ik,jk->ij", sample, sample), axis=1)))]
    else:
        tmpl = median(unit, axis=0)
        tmpl = tmpl / (np.linalg.norm(tmpl) + 1e-12)
    return np.asarray(np.einsum("ik,k->i", unit, tmpl))


def _normal_beats(x: np.ndarray, fs: float, d: Delineation, irregular: bool, lim: IntervalLimits) -> np.ndarray:
    """Mask of the beats that count: complete QRS, QRS like the record's usual one, not premature."""
    r = d.r_peaks
    ok = np.isfinite(d["qrs_on"]) & np.isfinite(d["qrs_off"])
    ok &= (r >= round(0.1 * fs)) & (r < x.shape[-1] - round(0.15 * fs))
    if ok.sum() >= 3:
        corr = _template_corr(_beat_windows(x, r, round(0.08 * fs), round(0.12 * fs)), medoid=True)
        ok &= corr >= lim.ectopic_corr
    if not irregular and r.size >= 3:
        rr_prev = np.concatenate([[np.inf], np.diff(r)])
        ok &= rr_prev >= lim.premature_ratio * median(np.diff(r), axis=0)
    return ok


def _p_consistency(x: np.ndarray, fs: float, qrs_on: np.ndarray) -> float:
    """Median correlation of the beats' pre-QRS segments (200-20 ms before QRS onset) with their median."""
    on = qrs_on[np.isfinite(qrs_on)].astype(int)
    on = on[on >= round(0.2 * fs)]
    if on.size < 3:
        return float("nan")
    segs = _beat_windows(x, on - round(0.11 * fs), round(0.09 * fs), round(0.09 * fs))
    return float(median(_template_corr(segs), axis=0))


def _axes(x: np.ndarray, leads: Sequence[str], spans: dict[str, tuple[np.ndarray, np.ndarray, str, np.ndarray]]
          ) -> dict[str, np.ndarray]:
    """Frontal axes (degrees) per beat from leads I and aVF, one per entry ``name: (start, stop, net, baseline)``
    of ``spans``.

    ``net="area"``: the net areas (integrals) between ``start`` and ``stop``; ``net="amplitude"``: the net
    deflections (largest positive plus largest negative, the hexaxial method); both relative to the level at the
    ``baseline`` samples (an isoelectric point: the wave's onset, or the QRS onset for the T wave, so that a shifted
    ST segment does not turn the T axis). The aVF component is scaled by 2/sqrt(3) to the projection on the +90
    degree axis. Every sum, maximum and minimum over a span is one ``reduceat`` over the two leads (no copy of the
    spans).
    """
    start = np.concatenate([v[0] for v in spans.values()])
    stop = np.concatenate([v[1] for v in spans.values()])
    ref = np.concatenate([v[3] for v in spans.values()])
    area = np.concatenate([np.full(v[0].shape, v[2] == "area") for v in spans.values()])
    out = np.full(start.shape, np.nan)
    ok = np.isfinite(start) & np.isfinite(stop) & np.isfinite(ref) & (stop > start)
    if "I" in leads and "aVF" in leads and ok.any():
        two = x[[list(leads).index("I"), list(leads).index("aVF")]]
        a, b = start[ok].astype(int), stop[ok].astype(int)
        # reductions over two[a..b]: reduceat over the pairs (a, b + 1), of which every other result is kept
        bounds = np.stack([a, b + 1], axis=1).ravel()
        padded = np.concatenate([two, np.zeros((2, 1), dtype=two.dtype)], axis=-1)
        level = two[:, ref[ok].astype(int)]
        net_area = np.add.reduceat(padded, bounds, axis=-1, dtype=float)[:, ::2] - (b - a + 1) * level
        net_amplitude = (np.maximum.reduceat(padded, bounds, axis=-1)[:, ::2]
                         + np.minimum.reduceat(padded, bounds, axis=-1)[:, ::2] - 2 * level)
        val = np.where(area[ok], net_area, net_amplitude)
        out[ok] = np.degrees(np.arctan2(val[1] * 2 / np.sqrt(3), val[0]))
    return dict(zip(spans, np.split(out, np.cumsum([v[0].size for v in spans.values()])[:-1]), strict=True))


def _medians(table: dict[str, np.ndarray], use: np.ndarray, min_beats: int) -> dict[str, tuple[float | None, int]]:
    """Per key, the median of its per-beat values over the ``use`` beats where finite, and their number.

    ``None`` where fewer than ``min_beats`` (or no) values are finite. One sort for all keys.
    """
    rows = np.where(use[None, :], np.stack(list(table.values())), np.nan)
    counts = np.isfinite(rows).sum(axis=1)
    med = nanmedian(rows, axis=1)
    return {key: (None if n < max(min_beats, 1) else float(m), int(n))
            for key, m, n in zip(table, med, counts, strict=True)}


def _circular_medians(table: dict[str, np.ndarray], use: np.ndarray, min_beats: int
                      ) -> dict[str, tuple[float | None, int]]:
    """:func:`_medians` of angles (degrees), taken around each key's circular mean and wrapped to [-180, 180)."""
    rows = np.where(use[None, :], np.stack(list(table.values())), np.nan)
    ok = np.isfinite(rows)
    centre = np.degrees(np.angle(np.where(ok, np.exp(1j * np.radians(np.where(ok, rows, 0.0))), 0.0).sum(axis=1)))
    wrapped = _medians(dict(zip(table, (rows - centre[:, None] + 180.0) % 360.0 - 180.0, strict=True)), use, min_beats)
    return {key: (None if m is None else float((m + c + 180.0) % 360.0 - 180.0), n)
            for (key, (m, n)), c in zip(wrapped.items(), centre, strict=True)}


def ecg_intervals(
    sig: np.ndarray,
    fs: float,
    r_peaks: np.ndarray,
    leads: Sequence[str],
    *,
    sex: str | None = None,
    quality: QualityReport | None = None,
    method: str = "auto",
    limits: IntervalLimits | None = None,
    delineation: Delineation | None = None,
) -> Intervals:
    """Measure a record's intervals and axes.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)``, mV.
    fs : float
        Sampling rate in Hz.
    r_peaks : np.ndarray
        Shape ``(n_beats,)``, R-peak sample indices (:func:`cardioscreen.signal.peaks.ecg_peaks`).
    leads : sequence of str
        Lead names, one per row of ``sig``; the axes need ``"I"`` and ``"aVF"``.
    sex : str, optional
        ``"M"`` / ``"F"`` (any case, or ``male`` / ``female``) for the sex-specific QTc limit; the lower
        (male) limit when unknown.
    quality : QualityReport, optional
        From :func:`cardioscreen.signal.quality.ecg_quality`; computed here when omitted. Only its
        usable leads take part; an unusable record gives no values.
    method : str
        Delineation method (see :func:`cardioscreen.signal.delineate.delineate_methods`); ``"auto"``:
        ``"hybrid"`` for the 12 standard leads in standard order (the best on LUDB), ``"dsp"`` otherwise.
    limits : IntervalLimits, optional
        Flag limits and rhythm-check constants.
    delineation : Delineation, optional
        A delineation of this record already made (then ``method`` is not used).

    Returns
    -------
    Intervals
    """
    lim = limits or IntervalLimits()
    x = np.atleast_2d(np.asarray(sig, dtype=float))
    names = tuple(leads)
    if len(names) != x.shape[0]:
        raise CardioScreenError(f"{len(names)} lead names for a signal of shape {x.shape}")
    r = np.asarray(r_peaks, dtype=np.int64).ravel()
    if method == "auto":
        method = "hybrid" if names == STANDARD_LEADS else "dsp"
    if delineation is not None:
        method = delineation.method
    quality = quality or ecg_quality(x, fs, names)
    if quality.verdict == "unusable" or not quality.usable_leads:
        return _empty(r.size, "signal quality unusable: " + "; ".join(quality.reasons), method)
    if r.size < 3:
        return _empty(r.size, f"only {r.size} beats detected; at least 3 are needed", method)
    mask = np.array([n in quality.usable_leads for n in names])
    d = delineation if delineation is not None else ecg_delineate(x, fs, r, method, lead_mask=mask)
    filt = bandpass(x, fs, 0.5, min(40.0, 0.45 * fs))
    usable = filt[mask]
    ms = 1000.0 / fs
    rr = np.diff(r) * ms
    irregular = rr.size > 1 and float(median(np.abs(np.diff(rr)), axis=0) / median(rr, axis=0)) > lim.irregular_rr
    normal = _normal_beats(usable, fs, d, irregular, lim)
    n_normal = int(normal.sum())
    reasons: dict[str, str] = {}
    values: dict[str, float | None] = dict.fromkeys(_MEASURES)
    used: dict[str, int] = {}
    min_beats = max(1, int(np.ceil(lim.min_beat_fraction * n_normal)))
    if n_normal == 0:
        return replace(_empty(r.size, "no beat with a complete, typical QRS complex", method), delineation=d)

    rr_prev = np.concatenate([[np.nan], rr])
    nn = rr[normal[1:] & normal[:-1]]
    values["hr_bpm"], used["hr_bpm"] = 60000.0 / float(median(rr, axis=0)), int(rr.size)
    if nn.size >= 2:
        values["rr_sdnn_ms"], values["rr_rmssd_ms"] = float(np.std(nn)), float(np.sqrt(np.mean(np.diff(nn) ** 2)))
        used["rr_sdnn_ms"] = used["rr_rmssd_ms"] = int(nn.size)
    else:
        reasons["rr_sdnn_ms"] = reasons["rr_rmssd_ms"] = "fewer than 3 consecutive normal beats"

    # The DSP stage of "dsp" / "hybrid" already looked for pacing spikes in this signal; "unet" does not.
    spikes = d.pacing_spikes if d.method in SPIKE_METHODS else pacing_spikes(x, fs, r)[0]
    paced = bool(ventricular_paced(x, fs, spikes, r).mean() >= 0.5)
    # P waves are judged on the beats that are not premature (a premature atrial beat's P wave differs)
    on_time = np.nan_to_num(rr_prev, nan=np.inf) >= lim.premature_ratio * median(rr, axis=0)
    p_seen = np.isfinite(d["p_on"][on_time]).mean() >= lim.p_present if on_time.any() else False
    no_p = irregular and not (p_seen and _p_consistency(usable, fs, d["qrs_on"][on_time]) >= lim.p_consistency)
    rhythm = "paced" if paced else ("irregular_without_p" if no_p else ("irregular" if irregular else "regular"))
    per_beat = {
        "p_ms": (d["p_off"] - d["p_on"]) * ms,
        "pr_ms": (d["qrs_on"] - d["p_on"]) * ms,
        "qrs_ms": (d["qrs_off"] - d["qrs_on"]) * ms,
        "qt_ms": (d["t_off"] - d["qrs_on"]) * ms,
    }
    rr_s = rr_prev / 1000.0
    qt = per_beat["qt_ms"]
    per_beat |= {
        "qtc_bazett_ms": qt / np.sqrt(rr_s),
        "qtc_fridericia_ms": qt / np.cbrt(rr_s),
        "qtc_framingham_ms": qt + 154.0 * (1.0 - rr_s),
    }
    for key, (value, n) in _medians(per_beat, normal, min_beats).items():
        values[key], used[key] = value, n
    if values["qt_ms"] is None:
        for key in ("qtc_bazett_ms", "qtc_fridericia_ms", "qtc_framingham_ms"):
            values[key], used[key] = None, 0
    if no_p:
        values["p_ms"] = values["pr_ms"] = None
        reasons["p_ms"] = reasons["pr_ms"] = "irregular RR without a consistent P wave (atrial fibrillation/flutter)"
    elif paced:
        values["pr_ms"] = None
        reasons["pr_ms"] = "paced rhythm: the PR interval is the pacemaker's AV delay"
    axes = _axes(filt, names, {
        "p_axis_deg": (d["p_on"], d["p_off"], "area", d["p_on"]),
        "qrs_axis_deg": (d["qrs_on"], d["qrs_off"], "amplitude", d["qrs_on"]),
        "t_axis_deg": (d["qrs_off"], d["t_off"], "area", d["qrs_on"]),
    })
    for key, (value, n) in _circular_medians(axes, normal, min_beats).items():
        values[key], used[key] = value, n
    if no_p:
        values["p_axis_deg"] = None
        reasons["p_axis_deg"] = reasons["p_ms"]
    for key in reasons:
        used[key] = 0
    for key in _MEASURES:
        if values[key] is None and key not in reasons:
            reasons[key] = _missing_reason(key, used.get(key, 0), n_normal, names)
    flags = _flags(values, sex, lim)
    return Intervals(
        **{k: (None if v is None else round(float(v), 1)) for k, v in values.items()},
        n_beats=n_normal, n_beats_total=int(r.size), n_ectopic=int(r.size - n_normal), rhythm=rhythm, paced=paced,
        flags=flags, beats_used=used, reasons=reasons, method=method, delineation=d, normal_beats=normal,
    )


def _missing_reason(key: str, n_used: int, n_normal: int, leads: Sequence[str]) -> str:
    if key.endswith("axis_deg") and not {"I", "aVF"} <= set(leads):
        return "leads I and aVF are needed for the frontal axis"
    waves = {"p": "P wave", "pr": "P wave", "qt": "T wave", "qtc": "T wave", "t": "T wave"}
    wave = waves.get(key.split("_")[0], "wave")
    return f"{wave} found in {n_used} of {n_normal} normal beats: too few to measure"


def _flags(values: dict[str, float | None], sex: str | None, lim: IntervalLimits) -> tuple[str, ...]:
    flags = []
    pr, qrs, qtc, axis = values["pr_ms"], values["qrs_ms"], values["qtc_bazett_ms"], values["qrs_axis_deg"]
    female = sex is not None and sex.strip().lower() in ("f", "female", "w", "woman")
    if pr is not None and pr > lim.pr_ms:
        flags.append("pr_prolonged")
    if qrs is not None and qrs >= lim.qrs_ms:
        flags.append("qrs_wide")
    if qtc is not None and qtc > (lim.qtc_female_ms if female else lim.qtc_male_ms):
        flags.append("qtc_prolonged")
    if axis is not None and axis < lim.left_axis_deg:
        flags.append("left_axis_deviation")
    if axis is not None and axis > lim.right_axis_deg:
        flags.append("right_axis_deviation")
    return tuple(flags)
