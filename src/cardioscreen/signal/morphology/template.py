"""The median beat of every lead, on an isoelectric baseline, and its wave boundaries.

Amplitudes are read off one median complex per lead (as clinical carts do) rather than beat by beat: the median
over the record's normal beats, each cut around its R-peak, keeps the waves' shape and cancels noise. The baseline
is the line through the isoelectric (PR-segment) levels of consecutive beats, so wander does not shift the ST
level; the signal is band-limited to the diagnostic band (0.05-150 Hz) first, which keeps Q waves, notches and ST
levels (AHA recommendation for adults).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.delineate import MIN_LEADS, Delineation
from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX, cut_windows, median, nanmedian

__all__ = ["MedianBeat", "median_beat"]

BEFORE_S = 0.25
"""The median beat starts this long before the R-peak."""
AFTER_S = 0.65
"""... and ends this long after it."""
ISO_WINDOW_S = (0.032, 0.016)
"""The isoelectric level of a beat: the median of the signal from 32 to 16 ms before its QRS onset (the end of the
PR segment, clear of the QRS onset of leads that start before the multi-lead onset)."""
_NAMES = ("p_on", "p_off", "qrs_on", "qrs_off", "t_peak", "t_off")


@dataclass(frozen=True)
class MedianBeat:
    """Median complexes of a record.

    Attributes
    ----------
    signal : np.ndarray
        Shape ``(leads, samples)``, mV against the isoelectric level; sample ``r_index`` is the R-peak.
    fs : float
        Sampling rate in Hz.
    r_index : int
        Sample of the R-peak in :attr:`signal`.
    fiducials : dict
        Multi-lead ``p_on``, ``p_off``, ``qrs_on``, ``qrs_off``, ``t_peak``, ``t_off`` as sample indices into
        :attr:`signal` (median over the beats of their distance to the R-peak; NaN where absent).
    per_lead : np.ndarray
        Shape ``(leads, 7)``: each lead's own marks in :data:`~cardioscreen.signal.delineate.FIDUCIALS` order, as
        sample indices into :attr:`signal` (median over the beats; NaN where the lead had none).
    qrs_global : tuple of float
        The global QRS onset and offset: where the QRS has begun, and is still going on, in
        :data:`~cardioscreen.signal.delineate.MIN_LEADS` leads (the third-earliest onset and third-latest offset of
        the usable leads, so that one lead's stray mark does not stretch it), median over the beats, as sample
        indices into :attr:`signal`.
    n_beats : int
        Beats the median is taken over.
    """

    signal: np.ndarray
    fs: float
    r_index: int
    fiducials: dict[str, float]
    per_lead: np.ndarray
    qrs_global: tuple[float, float]
    n_beats: int


def _isoelectric(x: np.ndarray, fs: float, qrs_on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times (samples, ``(k,)``) and levels ``(leads, k)`` of the isoelectric points of the beats with a QRS
    onset."""
    width = max(int(round((ISO_WINDOW_S[0] - ISO_WINDOW_S[1]) * fs)), 1)
    start = np.round(qrs_on - ISO_WINDOW_S[0] * fs)
    start = start[np.isfinite(start) & (start >= 0)].astype(np.int64)
    if not start.size:
        return np.zeros(0), np.zeros((x.shape[0], 0))
    return start + width / 2.0, median(cut_windows(x, start, width), axis=-1).T


def _global_qrs(per_lead: np.ndarray) -> tuple[float, float]:
    """Median over beats of the :data:`MIN_LEADS`-th earliest QRS onset and latest offset of ``(beats, leads, 7)``
    (of all the leads' marks where fewer leads have one)."""
    on = np.sort(per_lead[:, :, FIDUCIAL_INDEX["qrs_on"]], axis=1)
    off = np.sort(-per_lead[:, :, FIDUCIAL_INDEX["qrs_off"]], axis=1)
    k = np.clip(np.minimum(np.isfinite(on).sum(axis=1), np.isfinite(off).sum(axis=1)), 1, MIN_LEADS) - 1
    rows = np.arange(on.shape[0])
    return float(np.nanmedian(on[rows, k])), float(np.nanmedian(-off[rows, k]))


def median_beat(sig: np.ndarray, fs: float, delineation: Delineation, beats: np.ndarray | None = None,
                *, lead_mask: np.ndarray | None = None, powerline_hz: float = 50.0) -> MedianBeat | None:
    """The median beat of every lead over the ``beats`` of ``delineation``.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)``, the record in mV (raw: it is band-limited here).
    fs : float
        Sampling rate in Hz.
    delineation : Delineation
        Wave boundaries of the record's beats.
    beats : np.ndarray, optional
        Shape ``(n_beats,)``, bool: the beats to take (the normal beats of
        :attr:`cardioscreen.signal.intervals.Intervals.normal_beats`); all beats with a QRS onset and offset when
        omitted.
    lead_mask : np.ndarray, optional
        Shape ``(leads,)``, bool: the leads whose marks count for the global QRS (the usable ones); all when
        omitted.
    powerline_hz : float
        Mains frequency notched out (50 or 60 Hz).

    Returns
    -------
    MedianBeat or None
        None when no beat lies wholly inside the record with its QRS delineated.
    """
    x = ecg_clean(np.atleast_2d(sig), fs, method="diagnostic", powerline_hz=powerline_hz).astype(float)
    r = delineation.r_peaks
    use = np.ones(r.size, dtype=bool) if beats is None else np.asarray(beats, dtype=bool).copy()
    fid = delineation.fiducials
    before, after = int(round(BEFORE_S * fs)), int(round(AFTER_S * fs))
    use &= np.isfinite(fid[:, FIDUCIAL_INDEX["qrs_on"]]) & np.isfinite(fid[:, FIDUCIAL_INDEX["qrs_off"]])
    use &= (r - before >= 0) & (r + after < x.shape[-1])
    if not use.any():
        return None
    mask = np.ones(x.shape[0], dtype=bool) if lead_mask is None else np.asarray(lead_mask, dtype=bool)
    times, levels = _isoelectric(x, fs, fid[:, FIDUCIAL_INDEX["qrs_on"]])
    if times.size:
        t = np.arange(x.shape[-1])
        x = x - np.stack([np.interp(t, times, lv) for lv in levels])
    windows = cut_windows(x, r[use] - before, before + after + 1)
    shift = before - r[use]
    med = nanmedian(fid[use] + shift[:, None], axis=0)
    per_lead = delineation.per_lead[use] + shift[:, None, None]
    on, off = _global_qrs(per_lead[:, mask])
    return MedianBeat(signal=median(windows, axis=0), fs=float(fs), r_index=before,
                      fiducials={n: float(med[FIDUCIAL_INDEX[n]]) for n in _NAMES},
                      per_lead=nanmedian(per_lead, axis=0),
                      qrs_global=(on, off),
                      n_beats=int(use.sum()))
