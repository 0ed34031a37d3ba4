"""Multi-lead derivative delineator: QRS boundaries from slope envelopes, P and T ends by the trapezium method.

Everything is vectorised over beats and leads: each beat's neighbourhood of every lead is cut into one
``(beats, leads, window)`` array and the fiducials come from masked arg-max / arg-min along the window.
The trapezium method (Zhang et al., IEEE TBME 53(12), 2006) puts a wave's end where the triangle between
the steepest point of its slope, the candidate end and a point beyond the wave has the largest area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX, N_FIDUCIALS, cut_windows, nanmedian
from cardioscreen.signal.delineation.pacing import SPIKE_BLANK_S, blank_spikes, pacing_spikes
from cardioscreen.signal.spectral import bandpass


@dataclass(frozen=True)
class DSPConfig:
    """Constants of the derivative delineator (durations in seconds, amplitudes in mV).

    ``qrs_threshold``: fraction of a lead's peak QRS slope below which the QRS has ended, once the slope has
    stayed below it for ``qrs_quiet_s``, searching up to ``qrs_search_s`` before / after the R-peak.
    ``t_min_amplitude_mv`` / ``p_min_amplitude_mv``: smaller waves count as absent on that lead.
    ``p_search_s``: how far before the QRS onset a P wave may start; ``t_search_s``: how far after the R-peak a
    T wave may lie. ``t_reach_s`` / ``p_reach_s``: the far point of the trapezium beyond the T peak, and before /
    after the P peak. Chosen on LUDB (``bench/delineation.py`` also chooses them by cross-validation).
    """

    qrs_threshold: float = 0.05
    qrs_quiet_s: float = 0.006
    qrs_search_s: tuple[float, float] = (0.16, 0.2)
    t_min_amplitude_mv: float = 0.04
    p_min_amplitude_mv: float = 0.025
    p_search_s: float = 0.3
    t_search_s: float = 0.7
    t_reach_s: float = 0.12
    p_reach_s: tuple[float, float] = (0.075, 0.05)

    def __post_init__(self) -> None:
        if not 0 < self.qrs_threshold < 1:
            raise ValueError(f"qrs_threshold must lie in (0, 1), got {self.qrs_threshold}")
        durations = (self.qrs_quiet_s, self.p_search_s, self.t_search_s, self.t_reach_s, *self.qrs_search_s,
                     *self.p_reach_s)
        if min(durations) <= 0:
            raise ValueError(f"durations must be positive, got {durations}")


def _last_true(mask: np.ndarray) -> np.ndarray:
    """Index of the last True along the last axis, -1 where none."""
    n = mask.shape[-1]
    rev = np.argmax(mask[..., ::-1], axis=-1)
    return np.where(mask.any(axis=-1), n - 1 - rev, -1)


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along the last axis, -1 where none."""
    return np.where(mask.any(axis=-1), np.argmax(mask, axis=-1), -1)


def _run_below(below: np.ndarray, length: int, forward: bool) -> np.ndarray:
    """True where ``below`` holds for ``length`` samples ending (backward) or starting (forward) there.

    Near the ends of the last axis, a shorter run counts when it reaches the end. By ``length - 1`` shifted ANDs:
    the runs are a few samples long, and a running-minimum filter, which goes row by row, costs far more on the
    many short rows here.
    """
    run = below.copy()
    for j in range(1, length):
        if forward:
            run[..., :-j] &= below[..., j:]
        else:
            run[..., j:] &= below[..., :-j]
    return run


def _moving_mean(x: np.ndarray, k: int) -> np.ndarray:
    """Mean over ``k`` samples (``k // 2`` before to ``k - 1 - k // 2`` after; zeros beyond the ends).

    ``scipy.ndimage.uniform_filter1d(x, k, mode="constant")`` to float rounding, by ``k`` shifted adds (that
    filter goes row by row).
    """
    n = x.shape[-1]
    left = k // 2
    padded = np.zeros(x.shape[:-1] + (n + k - 1,), dtype=x.dtype)
    padded[..., left : left + n] = x
    total = padded[..., :n].copy()
    for j in range(1, k):
        total += padded[..., j : j + n]
    return total / x.dtype.type(k)


def _take(v: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``v[row, idx[row]]`` for a C-contiguous ``(rows, width)`` array and ``(rows, m)`` indices (``take_along_axis``
    without its overhead)."""
    return v.ravel()[idx + (np.arange(v.shape[0]) * v.shape[1])[:, None]]


def _masked_argmax(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.argmax(np.where(mask, values, -np.inf), axis=-1)


def _trapezium_end(v: np.ndarray, sign: np.ndarray, start: np.ndarray, stop: np.ndarray, forward: bool
                   ) -> np.ndarray:
    """Wave end after (``forward``) or before a peak, on ``u = v * sign`` (the wave pointing up).

    ``v`` is ``(rows, window)``; ``sign`` (rows,) is +-1; ``start`` is the peak index and ``stop`` the far search
    limit, per row. Only the columns between the two are read (the slope at each by central differences, one-sided
    at the window's ends, as ``np.gradient``), so the cost follows the search reach, not the window.
    """
    n = v.shape[-1]
    lo = np.minimum(start, stop)
    pos = lo[:, None] + np.arange(int((np.maximum(start, stop) - lo).max()) + 1)[None, :]
    inside = pos <= np.maximum(start, stop)[:, None]
    pos = np.minimum(pos, n - 1)
    prev, nxt = np.maximum(pos - 1, 0), np.minimum(pos + 1, n - 1)
    sign = sign[:, None]
    u = _take(v, pos) * sign
    slope = _take(v, nxt) * sign - _take(v, prev) * sign
    slope = slope / np.where(nxt - prev == 2, 2.0, 1.0).astype(v.dtype)
    xm = _take(pos, _masked_argmax(-slope if forward else slope, inside)[:, None])
    xr = stop[:, None]
    um = _take(v, xm) * sign
    if forward:
        cand = (pos >= xm) & (pos <= xr)
        area = (um - u) * (2 * xr - pos - xm)
    else:
        cand = (pos <= xm) & (pos >= xr)
        area = (um - u) * (pos + xm - 2 * xr)
    return _take(pos, _masked_argmax(area, cand)[:, None])[:, 0]


def _qrs_bounds(env: np.ndarray, centre: int, fs: float, cfg: DSPConfig) -> tuple[np.ndarray, np.ndarray]:
    """QRS onset and offset indices within the window, from a slope envelope ``(..., window)``."""
    n = env.shape[-1]
    i = np.arange(n)
    core = np.abs(i - centre) <= round(0.06 * fs)
    anchor = np.argmax(np.where(core, env, -np.inf), axis=-1)
    peak = _take(env, anchor[:, None])
    quiet = max(1, round(cfg.qrs_quiet_s * fs))
    below = env < cfg.qrs_threshold * peak
    back = _run_below(below, quiet, forward=False) & (i < anchor[..., None])
    back &= i >= centre - round(cfg.qrs_search_s[0] * fs)
    fwd = _run_below(below, quiet, forward=True) & (i > anchor[..., None])
    fwd &= i <= centre + round(cfg.qrs_search_s[1] * fs)
    onset = _last_true(back).astype(float)
    offset = _first_true(fwd).astype(float)
    onset[onset < 0] = np.nan
    offset[offset < 0] = np.nan
    return onset, offset


def delineate_dsp(
    sig: np.ndarray, fs: float, r_peaks: np.ndarray, cfg: DSPConfig | None = None, *, p_wave: bool = True
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-beat, per-lead fiducials by the derivative / trapezium delineator.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)``, mV.
    fs : float
        Sampling rate in Hz.
    r_peaks : np.ndarray
        Shape ``(n_beats,)``, sample indices of the R-peaks, increasing.
    cfg : DSPConfig, optional
        Constants; the defaults are those measured best on LUDB.
    p_wave : bool
        Delineate the P wave too (its columns are NaN otherwise; the hybrid method takes it from the U-Net).

    Returns
    -------
    per_lead : np.ndarray
        Shape ``(n_beats, leads, 7)``, float sample indices (NaN where absent), fiducials in
        :data:`~cardioscreen.signal.delineation.fiducials.FIDUCIALS` order.
    info : dict
        ``pacing_spikes``: sample indices of the pacing spikes found (blanked before delineation).
    """
    cfg = cfg or DSPConfig()
    r = np.asarray(r_peaks, dtype=np.int64)
    if r.size == 0:
        return np.full((0, sig.shape[0], N_FIDUCIALS), np.nan), {"pacing_spikes": np.zeros(0, dtype=np.int64)}
    spikes, beat_spike = pacing_spikes(sig, fs, r)
    raw = blank_spikes(sig, fs, spikes) if spikes.size else sig
    before = round(0.5 * fs)
    w = _Windows(
        fast=bandpass(raw, fs, 0.5, min(40.0, 0.45 * fs)), slow=bandpass(raw, fs, 0.5, min(12.0, 0.45 * fs)),
        start=r - before, width=before + round(0.8 * fs) + 1,
    )
    rr = np.diff(r).astype(float)
    rr_next = np.concatenate([rr, [rr[-1] if rr.size else fs]])
    rr_prev = np.concatenate([[rr[0] if rr.size else fs], rr])
    out = np.full((r.size, sig.shape[0], N_FIDUCIALS), np.nan)
    on_g, off_g = _qrs(w, fs, before, beat_spike - r + SPIKE_BLANK_S * fs + before, cfg, out)
    _t_wave(w, fs, before, on_g, off_g, rr_next, cfg, out)
    if p_wave:
        _p_wave(w, fs, before, on_g, rr_prev, cfg, out)
    out += w.start[:, None, None]
    return out, {"pacing_spikes": spikes}


@dataclass(frozen=True)
class _Windows:
    """Band-passed record (fast: 0.5-40 Hz; slow: 0.5-12 Hz; ``(leads, samples)``) and each beat's window.

    Beat ``b``'s window starts at sample ``start[b]`` (0.5 s before its R-peak) and is ``width`` samples long;
    the stages below work on window indices but cut only the columns they search, each with a margin so that
    the derivatives and running sums inside the searched span are those of the whole window.
    """

    fast: np.ndarray
    slow: np.ndarray
    start: np.ndarray
    width: int

    def span(self, lo: float, hi: float) -> tuple[int, int]:
        """Window columns ``[lo, hi]`` clipped to the window, as ints."""
        return max(int(lo), 0), min(int(hi), self.width - 1)

    def rows(self, x: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Columns ``lo..hi`` of every beat's window of ``x``: ``(beats * leads, hi - lo + 1)`` and validity.

        Columns outside the record repeat its first or last sample and are marked invalid.
        """
        first = self.start + lo
        idx = first[:, None] + np.arange(hi - lo + 1)[None, :]
        valid = (idx >= 0) & (idx < x.shape[-1])
        seg = cut_windows(x, first, hi - lo + 1)
        return seg.reshape(-1, seg.shape[-1]), np.repeat(valid, x.shape[0], axis=0)

    def at(self, x: np.ndarray, column: np.ndarray) -> np.ndarray:
        """``x`` at one window column per beat, ``(beats * leads,)`` (clipped to the record like the windows)."""
        return np.asarray(x[:, np.clip(self.start + column, 0, x.shape[-1] - 1)].T.ravel())


def _qrs(w: _Windows, fs: float, before: int, spike_at: np.ndarray, cfg: DSPConfig, out: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray]:
    """QRS onset / offset per beat and lead into ``out``; returns the per-beat multi-lead onset and offset."""
    F = FIDUCIAL_INDEX
    n_beats, n_leads = out.shape[:2]
    k = max(1, round(0.008 * fs))
    margin = max(1, round(cfg.qrs_quiet_s * fs)) + k + 2
    search = (round(cfg.qrs_search_s[0] * fs), round(cfg.qrs_search_s[1] * fs))
    lo, hi = w.span(before - search[0] - margin, before + search[1] + margin)
    seg, valid = w.rows(w.fast, lo, hi)
    deriv = np.abs(np.gradient(seg, axis=-1))
    env = _moving_mean(deriv, k)
    env = np.where(valid, env, 0.0)
    on_l, off_l = (v.reshape(n_beats, n_leads) + lo for v in _qrs_bounds(env, before - lo, fs, cfg))
    on_l = np.where(np.isfinite(spike_at)[:, None], np.fmax(on_l, spike_at[:, None]), on_l)
    out[..., F["qrs_on"]] = on_l
    out[..., F["qrs_off"]] = off_l
    on_g = nanmedian(on_l, axis=1)
    off_g = nanmedian(off_l, axis=1)
    ok = np.isfinite(on_g) & np.isfinite(off_g)
    return (np.where(ok, on_g, before - round(0.05 * fs)).astype(int),
            np.where(ok, off_g, before + round(0.06 * fs)).astype(int))


def _t_wave(w: _Windows, fs: float, before: int, on_g: np.ndarray, off_g: np.ndarray, rr_next: np.ndarray,
            cfg: DSPConfig, out: np.ndarray) -> None:
    """T peak and end per beat and lead into ``out``: after the QRS, before the next beat's P."""
    F = FIDUCIAL_INDEX
    n_beats, n_leads = out.shape[:2]
    rep = np.repeat
    base = w.at(w.slow, np.clip(on_g - round(0.015 * fs), 0, None))
    t_lo = rep(off_g + round(0.04 * fs), n_leads)
    t_hi = rep(np.minimum(before + np.minimum(0.68 * rr_next, cfg.t_search_s * fs), w.width - 1), n_leads)
    t_hi = t_hi.astype(int)
    lo, hi = w.span(t_lo.min() - 1, t_hi.max() + 1)
    rows, valid = w.rows(w.slow, lo, hi)
    v = rows - base[:, None]
    i = np.arange(lo, hi + 1)[None, :]
    t_mask = (i >= t_lo[:, None]) & (i <= t_hi[:, None]) & valid
    t_peak = _masked_argmax(np.abs(v), t_mask)
    t_amp = _take(v, t_peak[:, None])[:, 0]
    t_end = _trapezium_end(v, np.sign(t_amp), t_peak, np.minimum(t_peak + round(cfg.t_reach_s * fs), t_hi - lo),
                           forward=True) + lo
    t_peak = t_peak + lo
    edge = round(0.02 * fs)
    interior = (t_peak > t_lo + edge) & (t_peak < t_hi - edge)
    t_ok = (np.abs(t_amp) >= cfg.t_min_amplitude_mv) & t_mask.any(axis=-1) & interior
    out[..., F["t_peak"]] = np.where(t_ok, t_peak, np.nan).reshape(n_beats, n_leads)
    out[..., F["t_off"]] = np.where(t_ok, t_end, np.nan).reshape(n_beats, n_leads)


def _p_wave(w: _Windows, fs: float, before: int, on_g: np.ndarray, rr_prev: np.ndarray, cfg: DSPConfig,
            out: np.ndarray) -> None:
    """P onset, peak and offset per beat and lead into ``out``: before the QRS, after the previous T wave."""
    F = FIDUCIAL_INDEX
    n_beats, n_leads = out.shape[:2]
    rep = np.repeat
    p_base = w.at(w.slow, np.clip(on_g - round(0.01 * fs), 0, None))
    t_end_g = nanmedian(out[..., F["t_off"]], axis=1)
    prev_t_end = np.concatenate([[np.nan], t_end_g[:-1] - rr_prev[1:]]) + round(0.02 * fs)
    after_t = np.where(np.isfinite(prev_t_end), prev_t_end, before - 0.62 * rr_prev).astype(int)
    p_lo = rep(np.maximum(on_g - round(cfg.p_search_s * fs), after_t), n_leads)
    p_hi = rep(on_g - round(0.02 * fs), n_leads)
    on_r = rep(on_g, n_leads)
    lo, hi = w.span(p_lo.min() - 1, on_r.max() + 1)
    rows, valid = w.rows(w.slow, lo, hi)
    pw = rows - p_base[:, None]
    i = np.arange(lo, hi + 1)[None, :]
    p_mask = (i >= p_lo[:, None]) & (i <= p_hi[:, None]) & valid
    p_peak = _masked_argmax(np.abs(pw), p_mask)
    p_amp = _take(pw, p_peak[:, None])[:, 0]
    sign = np.sign(p_amp)
    p_on = _trapezium_end(pw, sign, p_peak, np.maximum(p_peak - round(cfg.p_reach_s[0] * fs), p_lo - lo), forward=False)
    p_off = _trapezium_end(pw, sign, p_peak, np.minimum(p_peak + round(cfg.p_reach_s[1] * fs), on_r - lo), forward=True)
    p_ok = (np.abs(p_amp) >= cfg.p_min_amplitude_mv) & p_mask.any(axis=-1)
    for name, val in (("p_on", p_on), ("p_peak", p_peak), ("p_off", p_off)):
        out[..., F[name]] = np.where(p_ok, val + lo, np.nan).reshape(n_beats, n_leads)
