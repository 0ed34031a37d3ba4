"""Fiducials from per-sample segment labels (background / P / QRS / ST-T), vectorised over beats and leads.

The leads' label rows are laid end to end with a gap between them, so that the runs of one class over the whole
record are found by one pass and every per-beat search is a ``searchsorted`` over them; the gap is wider than any
search reach, so a beat never takes a run from another lead.
"""

from __future__ import annotations

import numpy as np

from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX, N_FIDUCIALS

BACKGROUND, P_WAVE, QRS, ST_T = range(4)


def _runs(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Starts, (inclusive) ends and classes of the maximal runs of equal labels in ``flat``."""
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change - 1, [flat.size - 1]])
    return starts, ends, flat[starts]


def _runs_of(runs: tuple[np.ndarray, np.ndarray, np.ndarray], cls: int, min_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the runs of class ``cls`` at least ``min_len`` long."""
    starts, ends, classes = runs
    keep = (classes == cls) & (ends - starts + 1 >= min_len)
    return starts[keep], ends[keep]


def _peak_in(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per row, the index in ``[lo, hi]`` of ``x`` (flat) farthest from ``x[ref]``; ``lo <= hi`` everywhere."""
    if lo.size == 0:
        return lo
    span = np.arange(int((hi - lo).max()) + 1)
    idx = lo[:, None] + span[None, :]
    inside = idx <= hi[:, None]
    dev = np.where(inside, np.abs(x[np.minimum(idx, hi[:, None])] - x[ref][:, None]), -1.0)
    return np.asarray(lo + np.argmax(dev, axis=1))


def fiducials_from_labels(labels: np.ndarray, x: np.ndarray, r: np.ndarray, fs: float, *, t_wave: bool = True
                          ) -> np.ndarray:
    """Per-beat, per-lead fiducials from segment labels.

    Per beat and lead: the QRS run whose centre is nearest the R-peak (within 100 ms), the last P run ending by
    the QRS onset (starting within 400 ms before it and after the previous beat's QRS), and the first ST-T run
    starting within -10..120 ms of the QRS offset and ending before the next QRS. The P peak is the sample of
    the P run farthest from its start level; the T peak, that of the last two thirds of the ST-T run farthest
    from its end level.

    Parameters
    ----------
    labels : np.ndarray
        Shape ``(leads, samples)``, int classes (0 background, 1 P, 2 QRS, 3 ST-T).
    x : np.ndarray
        Shape ``(leads, samples)``, the signal the labels belong to (for the peaks).
    r : np.ndarray
        Shape ``(n_beats,)``, int R-peak sample indices at the labels' rate.
    fs : float
        Sampling rate of ``labels`` in Hz.
    t_wave : bool
        Find the T peak and offset too (left NaN otherwise).

    Returns
    -------
    np.ndarray
        Shape ``(n_beats, leads, 7)``, float sample indices (NaN where absent).
    """
    F = FIDUCIAL_INDEX
    ms = fs / 1000.0
    n_leads, n = labels.shape
    out = np.full((r.size, n_leads, N_FIDUCIALS), np.nan)
    if r.size == 0 or n_leads == 0:
        return out
    gap = int(np.ceil(500 * ms)) + 1
    stride = n + gap
    flat_labels = np.full((n_leads, stride), -1, dtype=np.int64)
    flat_labels[:, :n] = labels
    flat_x = np.zeros((n_leads, stride), dtype=x.dtype)
    flat_x[:, :n] = x
    flat, fx = flat_labels.ravel(), flat_x.ravel()
    runs = _runs(flat)
    q_on, q_off = _runs_of(runs, QRS, round(20 * ms))
    p_on, p_off = _runs_of(runs, P_WAVE, round(20 * ms))
    if q_on.size == 0:
        return out
    centre = (q_on + q_off) / 2.0
    rb = (np.arange(n_leads)[None, :] * stride + r[:, None]).astype(float)  # (beats, leads), global positions
    right = np.minimum(np.searchsorted(centre, rb), centre.size - 1)
    left = np.maximum(right - 1, 0)
    j = np.where(np.abs(centre[left] - rb) <= np.abs(centre[right] - rb), left, right)
    found = np.abs(centre[j] - rb) <= 100 * ms
    on, off = q_on[j], q_off[j]
    to_local = np.arange(n_leads)[None, :] * stride
    out[..., F["qrs_on"]] = np.where(found, on - to_local, np.nan)
    out[..., F["qrs_off"]] = np.where(found, off - to_local, np.nan)

    # The previous beat's QRS offset on the same lead (-inf before the first beat found there).
    prev = np.where(found, np.arange(r.size)[:, None], -1)
    prev = np.maximum.accumulate(prev, axis=0)
    prev = np.concatenate([np.full((1, n_leads), -1), prev[:-1]], axis=0)
    prev_off = np.where(prev >= 0, np.take_along_axis(off, np.maximum(prev, 0), axis=0), -np.inf)

    if p_on.size:
        k = np.searchsorted(p_off, on + 2, side="right") - 1
        ks = np.maximum(k, 0)
        ps, pe = p_on[ks], p_off[ks]
        has_p = found & (k >= 0) & (ps > prev_off) & (ps >= on - 400 * ms)
        peak = _peak_in(fx, ps[has_p], pe[has_p], ps[has_p])
        out[..., F["p_on"]] = np.where(has_p, ps - to_local, np.nan)
        out[..., F["p_off"]] = np.where(has_p, pe - to_local, np.nan)
        out[has_p, F["p_peak"]] = peak - to_local.repeat(r.size, axis=0)[has_p]

    t_on, t_off = _runs_of(runs, ST_T, round(40 * ms)) if t_wave else (q_on[:0], q_off[:0])
    if t_on.size:
        nxt = np.where(j + 1 < centre.size, centre[np.minimum(j + 1, centre.size - 1)], np.inf)
        k = np.minimum(np.searchsorted(t_on, off - 10 * ms, side="left"), t_on.size - 1)
        ts, te = t_on[k], t_off[k]
        has_t = found & (ts >= off - 10 * ms) & (ts <= off + 120 * ms) & (te < nxt)
        mid = ts + (te - ts) // 3
        peak = _peak_in(fx, mid[has_t], te[has_t], te[has_t])
        out[..., F["t_off"]] = np.where(has_t, te - to_local, np.nan)
        out[has_t, F["t_peak"]] = peak - to_local.repeat(r.size, axis=0)[has_t]
    return out
