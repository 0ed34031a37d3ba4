"""Per-beat measurements behind the rhythm: RR, QRS width and shape, P wave and PR, pacing spikes.

One :class:`BeatTable` is built for a whole record (any lead set, any length) from its R-peaks and delineation;
the rhythm features of any stretch of it (:mod:`cardioscreen.rhythm.features`) are then slices of these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cardioscreen.signal.delineate import Delineation
from cardioscreen.signal.delineation.fiducials import cut_windows, nanmedian
from cardioscreen.signal.delineation.pacing import pacing_spikes, spike_starts
from cardioscreen.signal.intervals import _template_corr, paced_beats, ventricular_paced

__all__ = ["BeatTable", "beat_table", "premature_beats"]

ATRIAL_SPIKE_LEAD_S = 0.10
"""An atrial pacing spike precedes the R-peak by this (s) to 150 ms more: the paced AV delay."""
P_WINDOW_S = (0.20, 0.02)
"""The atrial segment compared from beat to beat: from 200 ms to 20 ms before QRS onset."""
PREMATURE_RATIO = 0.85
"""A beat is premature when its RR is below this fraction of the median RR around it."""
QRS_WINDOW_S = (0.08, 0.12)
"""The QRS segment compared with the record's dominant QRS: 80 ms before to 120 ms after the R-peak."""


@dataclass(frozen=True, eq=False)
class BeatTable:
    """Measurements of every beat of one record (``n`` beats; NaN where a value could not be measured).

    Attributes
    ----------
    fs : float
        Sampling rate in Hz of ``r``.
    r : np.ndarray
        ``(n,)`` int64 R-peak sample indices.
    rr_prev_ms : np.ndarray
        ``(n,)`` RR interval ending at each beat (ms; NaN for the first).
    premature : np.ndarray
        ``(n,)`` bool: the beat comes early (:func:`premature_beats`).
    qrs_ms : np.ndarray
        ``(n,)`` QRS duration (ms) from the multi-lead delineation.
    qrs_corr : np.ndarray
        ``(n,)`` correlation of the beat's QRS (all leads) with the record's dominant QRS (the medoid).
    p_found : np.ndarray
        ``(n,)`` bool: the delineation found a P wave before the beat.
    pr_ms : np.ndarray
        ``(n,)`` PR interval (ms), NaN without a P wave.
    p_corr : np.ndarray
        ``(n,)`` correlation of the segment 200-20 ms before QRS onset with its median over the record's beats
        (P waves alike from beat to beat give values near 1; fibrillatory waves do not).
    v_spike, a_spike : np.ndarray
        ``(n,)`` bool: a ventricular pacing spike precedes the R-peak
        (:func:`~cardioscreen.signal.intervals.ventricular_paced`), or an atrial one by 100-250 ms.
    """

    fs: float
    r: np.ndarray
    rr_prev_ms: np.ndarray
    premature: np.ndarray
    qrs_ms: np.ndarray
    qrs_corr: np.ndarray
    p_found: np.ndarray
    pr_ms: np.ndarray
    p_corr: np.ndarray
    v_spike: np.ndarray
    a_spike: np.ndarray

    @property
    def n_beats(self) -> int:
        return int(self.r.size)

    def between(self, start: int, stop: int) -> np.ndarray:
        """Indices of the beats whose R-peak lies in samples ``[start, stop)``."""
        return np.arange(*np.searchsorted(self.r, [start, stop]))


def premature_beats(rr_prev_ms: np.ndarray, ratio: float = PREMATURE_RATIO) -> np.ndarray:
    """Beats whose preceding RR is below ``ratio`` x the median of the 9 RR intervals around it.

    Parameters
    ----------
    rr_prev_ms : np.ndarray
        ``(n,)`` RR interval ending at each beat (ms; NaN where unknown).
    ratio : float
        Prematurity limit, a fraction of the local median RR.

    Returns
    -------
    np.ndarray
        ``(n,)`` bool.
    """
    rr = np.asarray(rr_prev_ms, dtype=float)
    if rr.size == 0:
        return np.zeros(0, dtype=bool)
    local = nanmedian(sliding_window_view(np.pad(rr, 4, mode="edge"), 9), axis=1)
    with np.errstate(invalid="ignore"):
        return np.asarray(rr < ratio * local)


def _segment_corr(x: np.ndarray, first: np.ndarray, width: int, *, medoid: bool) -> np.ndarray:
    """Correlation of each beat's segment (all leads, starting at ``first``) with the beats' template."""
    out = np.full(first.size, np.nan)
    ok = np.isfinite(first)
    if ok.sum() >= 3:
        segs = cut_windows(x, first[ok].astype(np.int64), width).reshape(int(ok.sum()), -1)
        out[ok] = _template_corr(segs, medoid=medoid)
    return out


def beat_table(x: np.ndarray, fs: float, delineation: Delineation, raw: np.ndarray | None = None) -> BeatTable:
    """Measure every beat of a record.

    Parameters
    ----------
    x : np.ndarray
        Shape ``(leads, samples)``, cleaned signal in mV.
    fs : float
        Sampling rate in Hz.
    delineation : Delineation
        Of this record (its R-peaks are the beats).
    raw : np.ndarray, optional
        The same record before cleaning, ``(leads, samples)`` mV: pacing spikes are searched in it (a 40 Hz
        low-pass leaves none); without it, in ``x`` and the delineation's own.

    Returns
    -------
    BeatTable
    """
    d = delineation
    r = d.r_peaks.astype(np.int64)
    ms = 1000.0 / fs
    rr_prev = np.concatenate([[np.nan], np.diff(r) * ms])
    qrs_on = d["qrs_on"]
    before_qrs, after_qrs = (round(s * fs) for s in QRS_WINDOW_S)
    qrs_corr = _segment_corr(x, (r - before_qrs).astype(float), before_qrs + after_qrs, medoid=True)
    p_lo, p_hi = (round(s * fs) for s in P_WINDOW_S)
    p_first = np.where(qrs_on - p_lo >= 0, qrs_on - p_lo, np.nan)
    p_corr = _segment_corr(x, p_first, p_lo - p_hi, medoid=False)
    spiky = np.atleast_2d(np.asarray(x if raw is None else raw, dtype=float))
    starts = spike_starts(spiky, fs)
    v_spikes = np.union1d(d.pacing_spikes, pacing_spikes(spiky, fs, r, starts)[0]).astype(np.int64)
    v_spike = ventricular_paced(spiky, fs, v_spikes, r)
    a_spikes = pacing_spikes(spiky, fs, np.clip(r - round(ATRIAL_SPIKE_LEAD_S * fs), 0, None), starts)[0]
    a_spike = paced_beats(np.setdiff1d(a_spikes, v_spikes), r, fs, ATRIAL_SPIKE_LEAD_S)
    return BeatTable(
        fs=float(fs),
        r=r,
        rr_prev_ms=rr_prev,
        premature=premature_beats(rr_prev),
        qrs_ms=(d["qrs_off"] - qrs_on) * ms,
        qrs_corr=qrs_corr,
        p_found=np.isfinite(d["p_on"]),
        pr_ms=(qrs_on - d["p_on"]) * ms,
        p_corr=p_corr,
        v_spike=v_spike,
        a_spike=a_spike,
    )
