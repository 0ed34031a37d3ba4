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
from scipy import ndimage
from scipy import signal as sps

from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX, N_FIDUCIALS, nanmedian
from cardioscreen.signal.delineation.pacing import SPIKE_BLANK_S, blank_spikes, pacing_spikes


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


def _bandpass(sig: np.ndarray, fs: float, low: float, high: float) -> np.ndarray:
    high = min(high, 0.45 * fs)
    sos = sps.butter(2, [low, high], btype="band", fs=fs, output="sos")
    return np.asarray(sps.sosfiltfilt(sos, sig, axis=-1))


def _windows(x: np.ndarray, centres: np.ndarray, before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``x`` (leads, samples) around ``centres`` -> ``(beats, leads, before + after + 1)`` and a validity mask."""
    offsets = np.arange(-before, after + 1)
    idx = centres[:, None] + offsets[None, :]
    valid = (idx >= 0) & (idx < x.shape[-1])
    seg = x[:, np.clip(idx, 0, x.shape[-1] - 1)].transpose(1, 0, 2)
    return seg, valid


def _last_true(mask: np.ndarray) -> np.ndarray:
    """Index of the last True along the last axis, -1 where none."""
    n = mask.shape[-1]
    rev = np.argmax(mask[..., ::-1], axis=-1)
    return np.where(mask.any(axis=-1), n - 1 - rev, -1)


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along the last axis, -1 where none."""
    return np.where(mask.any(axis=-1), np.argmax(mask, axis=-1), -1)


def _run_below(below: np.ndarray, length: int, forward: bool) -> np.ndarray:
    """True where ``below`` holds for ``length`` samples ending (backward) or starting (forward) there."""
    c = np.cumsum(np.concatenate([np.zeros(below.shape[:-1] + (1,)), below], axis=-1), axis=-1)
    n = below.shape[-1]
    i = np.arange(n)
    if forward:
        hi = np.minimum(i + length, n)
        counts = c[..., hi] - c[..., i]
        return counts >= np.minimum(length, n - i)
    lo = np.maximum(i + 1 - length, 0)
    counts = c[..., i + 1] - c[..., lo]
    return counts >= np.minimum(length, i + 1)


def _masked_argmax(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.argmax(np.where(mask, values, -np.inf), axis=-1)


def _trapezium_end(u: np.ndarray, start: np.ndarray, stop: np.ndarray, forward: bool) -> np.ndarray:
    """Wave end after (``forward``) or before a peak, on ``u`` with the wave pointing up.

    ``start`` is the peak index and ``stop`` the far search limit, per row of ``u`` (rows, window).
    """
    n = u.shape[-1]
    i = np.arange(n)[None, :]
    lo = np.minimum(start, stop)[:, None]
    hi = np.maximum(start, stop)[:, None]
    inside = (i >= lo) & (i <= hi)
    slope = np.gradient(u, axis=-1)
    xm = _masked_argmax(-slope if forward else slope, inside)
    xr = stop
    um = np.take_along_axis(u, xm[:, None], axis=-1)
    if forward:
        cand = (i >= xm[:, None]) & (i <= xr[:, None])
        area = (um - u) * (2 * xr[:, None] - i - xm[:, None])
    else:
        cand = (i <= xm[:, None]) & (i >= xr[:, None])
        area = (um - u) * (i + xm[:, None] - 2 * xr[:, None])
    return _masked_argmax(area, cand)


def _qrs_bounds(env: np.ndarray, centre: int, fs: float, cfg: DSPConfig) -> tuple[np.ndarray, np.ndarray]:
    """QRS onset and offset indices within the window, from a slope envelope ``(..., window)``."""
    n = env.shape[-1]
    i = np.arange(n)
    core = np.abs(i - centre) <= round(0.06 * fs)
    anchor = np.argmax(np.where(core, env, -np.inf), axis=-1)
    peak = np.take_along_axis(env, anchor[..., None], axis=-1)
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
    sig: np.ndarray, fs: float, r_peaks: np.ndarray, cfg: DSPConfig | None = None
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
    w = _filtered_windows(sig, fs, r)
    rr = np.diff(r).astype(float)
    rr_next = np.concatenate([rr, [rr[-1] if rr.size else fs]])
    rr_prev = np.concatenate([[rr[0] if rr.size else fs], rr])
    spike_end = w.beat_spike - r + SPIKE_BLANK_S * fs
    out = _delineate_windows(w, fs, rr_prev, rr_next, spike_end, cfg)
    out += (r - w.before)[:, None, None]
    return out, {"pacing_spikes": w.spikes}


@dataclass(frozen=True)
class _Windows:
    """Band-passed (fast: 0.5-40 Hz; slow: 0.5-12 Hz) ``(beats, leads, window)`` cuts around R-peaks."""

    fast: np.ndarray
    slow: np.ndarray
    valid: np.ndarray
    before: int
    spikes: np.ndarray
    beat_spike: np.ndarray


def _filtered_windows(sig: np.ndarray, fs: float, r: np.ndarray) -> _Windows:
    spikes, beat_spike = pacing_spikes(sig, fs, r)
    raw = blank_spikes(sig, fs, spikes)
    before, after = round(0.5 * fs), round(0.8 * fs)
    fast, valid = _windows(_bandpass(raw, fs, 0.5, 40.0), r, before, after)
    slow, _ = _windows(_bandpass(raw, fs, 0.5, 12.0), r, before, after)
    return _Windows(fast=fast, slow=slow, valid=valid, before=before, spikes=spikes, beat_spike=beat_spike)


def _delineate_windows(
    w: _Windows, fs: float, rr_prev: np.ndarray, rr_next: np.ndarray, spike_end: np.ndarray, cfg: DSPConfig,
) -> np.ndarray:
    """Fiducials as window indices ``(beats, leads, 7)`` of consecutive beats of one record."""
    F = FIDUCIAL_INDEX
    seg, slow, valid, before = w.fast, w.slow, w.valid, w.before
    n_beats, n_leads = seg.shape[:2]
    out = np.full((n_beats, n_leads, N_FIDUCIALS), np.nan)
    k = max(1, round(0.008 * fs))
    deriv = np.abs(np.gradient(seg, axis=-1))
    env = ndimage.uniform_filter1d(deriv, k, axis=-1, mode="constant")
    env = np.where(valid[:, None, :], env, 0.0)
    on_l, off_l = _qrs_bounds(env, before, fs, cfg)
    spike_at = spike_end + before
    on_l = np.where(np.isfinite(spike_at)[:, None], np.fmax(on_l, spike_at[:, None]), on_l)
    out[..., F["qrs_on"]] = on_l
    out[..., F["qrs_off"]] = off_l
    on_g = nanmedian(on_l, axis=1)
    off_g = nanmedian(off_l, axis=1)
    ok = np.isfinite(on_g) & np.isfinite(off_g)
    on_g = np.where(ok, on_g, before - round(0.05 * fs)).astype(int)
    off_g = np.where(ok, off_g, before + round(0.06 * fs)).astype(int)

    rows = slow.reshape(n_beats * n_leads, -1)
    rep = np.repeat
    i = np.arange(rows.shape[-1])[None, :]
    valid_rows = rep(valid, n_leads, axis=0)

    # T wave: after the QRS, before the next beat's P.
    iso = round(0.015 * fs)
    base_idx = np.clip(on_g - iso, 0, None)
    base = np.take_along_axis(slow, base_idx[:, None, None].repeat(n_leads, 1), axis=-1)[..., 0]
    v = rows - base.reshape(-1, 1)
    t_lo = rep(off_g + round(0.04 * fs), n_leads)
    t_hi = rep(np.minimum(before + np.minimum(0.68 * rr_next, cfg.t_search_s * fs), slow.shape[-1] - 1), n_leads)
    t_hi = t_hi.astype(int)
    t_mask = (i >= t_lo[:, None]) & (i <= t_hi[:, None]) & valid_rows
    t_peak = _masked_argmax(np.abs(v), t_mask)
    t_amp = np.take_along_axis(v, t_peak[:, None], axis=-1)[:, 0]
    u = v * np.sign(t_amp)[:, None]
    t_end = _trapezium_end(u, t_peak, np.minimum(t_peak + round(cfg.t_reach_s * fs), t_hi), forward=True)
    edge = round(0.02 * fs)
    interior = (t_peak > t_lo + edge) & (t_peak < t_hi - edge)
    t_ok = (np.abs(t_amp) >= cfg.t_min_amplitude_mv) & t_mask.any(axis=-1) & interior
    out[..., F["t_peak"]] = np.where(t_ok, t_peak, np.nan).reshape(n_beats, n_leads)
    out[..., F["t_off"]] = np.where(t_ok, t_end, np.nan).reshape(n_beats, n_leads)

    # P wave: before the QRS onset, after the previous beat's T wave.
    p_base_idx = np.clip(on_g - round(0.01 * fs), 0, None)
    p_base = np.take_along_axis(slow, p_base_idx[:, None, None].repeat(n_leads, 1), axis=-1)[..., 0]
    pw = rows - p_base.reshape(-1, 1)
    t_end_g = nanmedian(out[..., F["t_off"]], axis=1)
    prev_t_end = np.concatenate([[np.nan], t_end_g[:-1] - rr_prev[1:]]) + round(0.02 * fs)
    after_t = np.where(np.isfinite(prev_t_end), prev_t_end, before - 0.62 * rr_prev).astype(int)
    p_lo = np.maximum(on_g - round(cfg.p_search_s * fs), after_t)
    p_hi = on_g - round(0.02 * fs)
    p_lo_r, p_hi_r = rep(p_lo, n_leads), rep(p_hi, n_leads)
    p_mask = (i >= p_lo_r[:, None]) & (i <= p_hi_r[:, None]) & valid_rows
    p_peak = _masked_argmax(np.abs(pw), p_mask)
    p_amp = np.take_along_axis(pw, p_peak[:, None], axis=-1)[:, 0]
    up = pw * np.sign(p_amp)[:, None]
    p_on = _trapezium_end(up, p_peak, np.maximum(p_peak - round(cfg.p_reach_s[0] * fs), p_lo_r), forward=False)
    p_stop = np.minimum(p_peak + round(cfg.p_reach_s[1] * fs), rep(on_g, n_leads))
    p_off = _trapezium_end(up, p_peak, p_stop, forward=True)
    p_ok = (np.abs(p_amp) >= cfg.p_min_amplitude_mv) & p_mask.any(axis=-1)
    for name, val in (("p_on", p_on), ("p_peak", p_peak), ("p_off", p_off)):
        out[..., F[name]] = np.where(p_ok, val, np.nan).reshape(n_beats, n_leads)

    return out
