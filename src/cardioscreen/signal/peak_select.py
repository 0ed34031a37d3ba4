"""Rules that pick beats among the maxima of the fused QRS envelope (used by :mod:`cardioscreen.signal.peaks`).

Every function takes the candidate maxima (``cand``, sample indices at the detection rate, sorted), their
envelope heights and a boolean ``accepted`` mask over them, and returns a new mask; none changes its inputs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cardioscreen.signal.peaks import PeakConfig

__all__ = ["drop_t_waves", "rescue_gaps", "running_quantile", "search_back"]


def _window_plan(n: int, half: int, q: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays of :func:`running_quantile` for ``n`` values and windows of ``2 * half + 1``: the gather of
    each window from the NaN-padded series ``(n, 2 * half + 1)``, the flat positions of the two order statistics
    in the sorted windows ``(n,)`` each, and their interpolation weights ``(n,)`` each."""
    index = np.arange(n)
    width = 2 * half + 1
    count = np.minimum(index, half) + np.minimum(n - 1 - index, half) + 1
    position = q * (count - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, count - 1)
    fraction = position - low
    return index[:, None] + np.arange(width), index * width + low, index * width + high, 1 - fraction, fraction


_cached_window_plan = lru_cache(maxsize=64)(_window_plan)
_CACHED_PLAN_MAX = 512
"""Plans of series up to this long are kept (short records call :func:`running_quantile` often on few values)."""


def running_quantile(x: np.ndarray, size: int, q: float = 0.5) -> np.ndarray:
    """Running ``q`` quantile (the median by default) over ``size`` (odd) neighbours; the window shrinks at
    the ends instead of repeating the end values, so that a short series (a 10 s record has five level
    blocks) is not ruled by its ends."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    half = min(size // 2, max(n - 1, 0))
    if half == 0:
        return x.copy()
    plan = _cached_window_plan if n <= _CACHED_PLAN_MAX else _window_plan
    gather, low, high, weight_low, weight_high = plan(n, half, q)
    pad = np.full(half, np.nan)
    windows = np.sort(np.concatenate([pad, x, pad])[gather], axis=-1).ravel()
    return np.asarray(windows[low] * weight_low + windows[high] * weight_high)


def search_back(cand: np.ndarray, height: np.ndarray, accepted: np.ndarray, low_thr: np.ndarray,
                fs: float, cfg: PeakConfig) -> np.ndarray:
    """Add, in RR gaps longer than ``searchback_rr`` times the local median RR or than ``searchback_s``, the
    highest candidate above ``low_thr`` (repeatedly, so a gap may recover several beats). Returns the new
    accepted mask."""
    accepted = accepted.copy()
    eligible = height >= low_thr
    refractory = cfg.refractory_s * fs
    for _ in range(50):
        idx = np.flatnonzero(accepted)
        if len(idx) < 3:
            break
        pos = cand[idx]
        rr = pos[1:] - pos[:-1]
        local_rr = running_quantile(rr, 9)
        gaps = np.flatnonzero((rr > cfg.searchback_rr * local_rr) | (rr > cfg.searchback_s * fs))
        added = False
        first = np.searchsorted(cand, pos[gaps] + refractory, side="right")
        stop = np.searchsorted(cand, pos[gaps + 1] - refractory, side="left")
        for lo, hi in zip(first, stop, strict=True):
            inside = lo + np.flatnonzero(eligible[lo:hi] & ~accepted[lo:hi])
            if len(inside):
                accepted[inside[np.argmax(height[inside])]] = True
                added = True
        if not added:
            break
    return accepted


def drop_t_waves(cand: np.ndarray, height: np.ndarray, slope: np.ndarray, accepted: np.ndarray, fs: float,
                 cfg: PeakConfig) -> np.ndarray:
    """Drop T waves taken for beats: a weak maximum within ``t_wave_s`` of the previous beat, then the less
    steep of two beats within ``t_zone_s`` that are premature for the local rhythm. Returns the new mask.

    The local RR of a pair is the running median of the longer RR on either side of each beat, which stays
    near the true RR when every other detection is a T wave."""
    accepted = accepted.copy()
    idx = np.flatnonzero(accepted)
    if len(idx) < 2:
        return accepted
    beat = cand[idx]
    close = beat[1:] - beat[:-1] < cfg.t_wave_s * fs
    weak = height[idx[1:]] < cfg.t_wave_ratio * height[idx[:-1]]
    accepted[idx[1:][close & weak]] = False
    idx = np.flatnonzero(accepted)
    if len(idx) < 4:
        return accepted
    beat = cand[idx]
    gap = (beat[1:] - beat[:-1]).astype(np.float64)
    longer = np.maximum(gap[:-1], gap[1:])
    local_rr = running_quantile(np.concatenate([longer[:1], longer]), 9)
    premature = (gap < cfg.t_zone_s * fs) & (gap < cfg.premature_rr * local_rr)
    accepted[np.where(slope[idx[1:]] < slope[idx[:-1]], idx[1:], idx[:-1])[premature]] = False
    return accepted


def rescue_gaps(cand: np.ndarray, height: np.ndarray, accepted: np.ndarray, floor: np.ndarray, n: int, fs: float,
                cfg: PeakConfig) -> np.ndarray:
    """In each RR gap (the record's ends count as beats) longer than ``rescue_rr`` x the local median RR,
    accept the highest maximum past the previous beat's T wave if it is clear of the background and of the
    other maxima there (see :class:`PeakConfig`). Returns the new mask."""
    pos = cand[accepted]
    if len(pos) < 2:
        return accepted
    gap_of = np.searchsorted(pos, cand, side="right")
    prev = np.concatenate([[-np.inf], pos])[gap_of]
    nxt = np.concatenate([pos, [np.inf]])[gap_of]
    local_rr = running_quantile(pos[1:] - pos[:-1], 9)
    local_rr = np.concatenate([local_rr[:1], local_rr, local_rr[-1:]])[gap_of]
    ok = ~accepted & (cand - prev >= cfg.t_zone_s * fs) & (nxt - cand >= cfg.refractory_s * fs)
    ok &= np.minimum(nxt, n) - np.maximum(prev, 0) > cfg.rescue_rr * local_rr
    sel = np.flatnonzero(ok)
    if len(sel) == 0:
        return accepted
    order = sel[np.lexsort((-height[sel], gap_of[sel]))]
    group = gap_of[order]
    first = np.flatnonzero(np.diff(group, prepend=-1) != 0)
    top = order[first]
    runner_up = np.zeros(len(first))
    has_next = first + 1 < len(order)
    has_next[has_next] = group[first[has_next] + 1] == group[first[has_next]]
    runner_up[has_next] = height[order[first[has_next] + 1]]
    good = (height[top] >= cfg.rescue_snr * floor[top]) & (height[top] >= cfg.rescue_dominance * runner_up)
    accepted = accepted.copy()
    accepted[top[good]] = True
    return accepted
