"""Pacemaker spikes: very short, steep deflections seen at the same instant on many leads.

A spike is a step in the signal: the change over ~2 ms is large while the change over the 2 ms just before
it is small. A QRS complex, however steep, changes smoothly, so its consecutive changes are alike. The
spikes found are blanked (replaced by a straight line) before delineation, so that no spike is taken for a
QRS (or P) onset.
"""

from __future__ import annotations

import numpy as np

SPIKE_STEP_MV = 0.1
"""Least step (mV within ~2 ms, beyond the step just before) on one lead for a spike."""
SPIKE_RATIO = 4.0
"""A step must be this many times the step just before it (plus ``SPIKE_FLOOR_MV``)."""
SPIKE_FLOOR_MV = 0.02
SPIKE_MIN_LEADS = 4
"""Least number of leads that must show the step at the same instant."""
SPIKE_QRS_WINDOW_S = 0.15
"""A ventricular spike precedes its R-peak by at most this (seconds)."""
SPIKE_BLANK_S = 0.014
"""Time after a spike's start that is blanked (seconds): the filtered spike's decay."""


def spike_starts(sig: np.ndarray, fs: float) -> np.ndarray:
    """Where steps like pacing spikes start in ``sig`` ``(leads, samples)`` (mV): sorted int64 sample indices,
    at least ``SPIKE_BLANK_S`` apart, whether or not the record is paced (:func:`pacing_spikes` decides that)."""
    x = np.asarray(sig, dtype=float)
    k = max(1, round(0.002 * fs))
    if x.shape[-1] <= 3 * k:
        return np.zeros(0, dtype=np.int64)
    min_leads = min(SPIKE_MIN_LEADS, x.shape[0])
    step = np.abs(x[:, k:] - x[:, :-k])
    # a spike's step is at least SPIKE_STEP_MV on its own: only the columns where enough leads have one are tested
    cols = np.flatnonzero((step[:, k:] >= SPIKE_STEP_MV).sum(axis=0) >= min_leads)
    before, after = step[:, cols], step[:, cols + k]
    is_step = (after - before >= SPIKE_STEP_MV) & (after >= SPIKE_RATIO * (before + SPIKE_FLOOR_MV))
    cand = cols[is_step.sum(axis=0) >= min_leads] + 2 * k
    if cand.size == 0:
        return np.zeros(0, dtype=np.int64)
    return cand[np.concatenate([[True], np.diff(cand) > max(1, round(SPIKE_BLANK_S * fs))])].astype(np.int64)


def pacing_spikes(sig: np.ndarray, fs: float, r_peaks: np.ndarray, starts: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Pacing spikes of a record, and the ventricular spike of each beat.

    A record counts as paced when a spike precedes at least half of its R-peaks by less than
    ``SPIKE_QRS_WINDOW_S``; otherwise the steps found are taken for noise and nothing is returned.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)``, mV.
    fs : float
        Sampling rate in Hz.
    r_peaks : np.ndarray
        Shape ``(n_beats,)``, R-peak sample indices.
    starts : np.ndarray, optional
        :func:`spike_starts` of ``sig``, when already found (asking about other beats of the same signal).

    Returns
    -------
    spikes : np.ndarray
        Sorted int64 sample indices where spikes start (empty for an unpaced record).
    beat_spike : np.ndarray
        Shape ``(n_beats,)``, float: the last spike before each R-peak within the window, NaN if none.
    """
    r = np.asarray(r_peaks, dtype=np.int64)
    none = (np.zeros(0, dtype=np.int64), np.full(r.size, np.nan))
    if r.size == 0:
        return none
    cand = spike_starts(sig, fs) if starts is None else starts
    if cand.size == 0:
        return none
    pos = np.searchsorted(cand, r) - 1
    last = np.where(pos >= 0, cand[np.clip(pos, 0, None)], -(10**9))
    beat_spike = np.where(r - last <= SPIKE_QRS_WINDOW_S * fs, last, np.nan).astype(float)
    if np.isfinite(beat_spike).mean() < 0.5:
        return none
    return cand, beat_spike


def blank_spikes(sig: np.ndarray, fs: float, spikes: np.ndarray) -> np.ndarray:
    """Copy of ``sig`` with each spike's span replaced by a straight line between its ends (all leads)."""
    out = np.array(sig, dtype=float, copy=True)
    n = out.shape[-1]
    pre, post = max(1, round(0.002 * fs)), max(2, round(SPIKE_BLANK_S * fs))
    for s in spikes:
        a, b = max(int(s) - pre, 0), min(int(s) + post, n - 1)
        t = np.linspace(0.0, 1.0, b - a + 1)
        out[:, a : b + 1] = out[:, [a]] + (out[:, [b]] - out[:, [a]]) * t
    return out
