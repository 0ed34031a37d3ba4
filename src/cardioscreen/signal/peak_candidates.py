"""Candidate beats of the fused-envelope R-peak detector (used by :mod:`cardioscreen.signal.peaks`).

The record is boxcar-decimated to about ``detect_hz``, freed of one-sample spikes, and every lead's QRS energy
(band-passed, differentiated, squared, normalised by its typical QRS level, clipped) is fused into one RMS envelope
with weights that favour leads whose QRS stands out of their background, overall and second by second. The
envelope's local maxima, at least a refractory period apart, are the candidates; each comes with its height, the
running QRS and background levels around it, its QRS slope and the rule detector's verdict
(:mod:`cardioscreen.signal.peak_select`). :func:`refine` moves chosen candidates to the R extremum at the full rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage
from scipy import signal as sps

from cardioscreen.signal.peak_select import drop_t_waves, rescue_gaps, running_quantile, search_back
from cardioscreen.signal.spectral import bandpass

if TYPE_CHECKING:
    from cardioscreen.signal.peaks import PeakConfig

__all__ = ["Candidates", "find_candidates", "refine", "to_peaks", "window_index"]

_CHUNK_ELEMENTS = 4_000_000
"""Leads are filtered in groups of at most this many samples in all, which bounds memory on long records."""

@dataclass(frozen=True)
class Candidates:
    """Maxima of the fused QRS envelope of one record, at the detection rate.

    Attributes
    ----------
    fs : detection rate (Hz), the input rate divided by ``q``.
    q : decimation factor; candidate ``i`` lies near input sample ``index[i] * q + q // 2``.
    small : ``(leads, n)`` decimated, despiked signal (mV).
    env, fused : ``(n,)`` RMS envelope and the fused normalised energy it integrates.
    weights, contrast : ``(leads,)`` lead weights (sum 1, 0 for unused leads) and QRS contrast.
    index : ``(k,)`` candidate positions (detection-rate samples, sorted).
    height, level, floor, threshold, slope : ``(k,)`` envelope height, running typical beat height, running
        background, the rule detector's threshold, and the QRS slope (root of the largest fused energy nearby).
    rule : ``(k,)`` bool, the candidates the rule detector accepts.
    """

    fs: float
    q: int
    small: np.ndarray
    env: np.ndarray
    fused: np.ndarray
    weights: np.ndarray
    contrast: np.ndarray
    index: np.ndarray
    height: np.ndarray
    level: np.ndarray
    floor: np.ndarray
    threshold: np.ndarray
    slope: np.ndarray
    rule: np.ndarray

    def select(self, mask: np.ndarray) -> Candidates:
        """The candidates where ``mask`` ``(k,)`` is true (the record-wide arrays are shared, not copied)."""
        return Candidates(fs=self.fs, q=self.q, small=self.small, env=self.env, fused=self.fused,
                          weights=self.weights, contrast=self.contrast, index=self.index[mask],
                          height=self.height[mask], level=self.level[mask], floor=self.floor[mask],
                          threshold=self.threshold[mask], slope=self.slope[mask], rule=self.rule[mask])

    def select_plausible(self) -> Candidates:
        """The candidates that reach the running background level: an envelope maximum below the median envelope
        around it is never a beat worth deciding (the verifier sees only these)."""
        return self.select(self.height >= self.floor)

    def info(self) -> dict[str, object]:
        """Lead weights, contrast and the leads used, for ``ecg_peaks``'s info dict."""
        return {"weights": self.weights.round(4).tolist(), "contrast": self.contrast.round(1).tolist(),
                "leads_used": np.flatnonzero(self.weights > 0).tolist()}


def _median(x: np.ndarray) -> np.ndarray:
    """Median along the last axis (as ``np.median``, from a partition, without its overhead on small arrays)."""
    n = x.shape[-1]
    low, high = (n - 1) // 2, n // 2
    part = np.partition(x, (low, high) if low != high else low, axis=-1)
    return np.asarray(0.5 * (part[..., low] + part[..., high]))


def _block_stat(x: np.ndarray, block: int, fn: Callable[..., np.ndarray]) -> np.ndarray:
    """``fn`` over consecutive blocks of ``block`` samples along the last axis (a short tail joins the last)."""
    n_blocks = max(x.shape[-1] // block, 1)
    last = (n_blocks - 1) * block
    out = np.empty((*x.shape[:-1], n_blocks))
    out[..., -1] = fn(x[..., last:], axis=-1)
    if n_blocks > 1:
        out[..., :-1] = fn(x[..., :last].reshape(*x.shape[:-1], n_blocks - 1, block), axis=-1)
    return out


def _sparse_median(x: np.ndarray, axis: int) -> np.ndarray:
    """Median along the last axis from at most about 64 evenly spaced values (``axis`` must be -1)."""
    return _median(x[..., :: max(x.shape[-1] // 64, 1)])


def _lead_energy(x: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised QRS energy of each lead, its QRS contrast and its local background.

    Energy is the squared derivative of the band-passed lead divided by the median of its block maxima
    (the typical QRS level), clipped at ``cfg.clip``: ``(leads, samples)``. Contrast ``(leads,)`` is that
    level over the lead's median energy: high for clear QRS complexes, low for flat, noise-only or wandering
    leads. The background ``(leads, blocks)`` is the median normalised energy of each ``weight_block_s`` block.
    """
    low, high = cfg.band_hz
    bp = np.array(bandpass(x, fs, low, min(high, 0.45 * fs)), dtype=np.float64)
    energy = np.empty_like(bp)
    np.subtract(bp[:, :1], bp[:, :1], out=energy[:, :1])
    np.subtract(bp[:, 1:], bp[:, :-1], out=energy[:, 1:])
    np.square(energy, out=energy)
    level = _median(_block_stat(energy, max(int(cfg.block_s * fs), 1), np.max))
    ok = level > 1e-12
    energy /= np.where(ok, level, 1.0)[:, None]
    np.minimum(energy, cfg.clip, out=energy)
    wblock = max(int(cfg.weight_block_s * fs), 1)
    background = _block_stat(energy, wblock, _sparse_median)
    floor = _median(background)
    contrast = np.where(ok, 1.0 / (floor + 1e-3), 0.0)
    return energy, contrast, background


def _envelope(sig: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fused RMS QRS envelope ``(samples,)``, the fused normalised energy it integrates ``(samples,)``, the
    per-lead weights (sum 1, zeros for unusable leads) and the per-lead QRS contrast.

    Each lead's normalised energy enters the fused envelope with weight (lead contrast) / (local background +
    ``cfg.background``), so a lead counts less wherever it is locally noisy.
    """
    n_leads, n = sig.shape
    group = max(1, _CHUNK_ELEMENTS // max(n, 1))
    parts = [_lead_energy(np.asarray(sig[i : i + group], dtype=np.float64), fs, cfg)
             for i in range(0, n_leads, group)]
    contrast = np.concatenate([c for _, c, _ in parts])
    weights = contrast / contrast.max() if contrast.max() > 0 else contrast
    weights = np.where(weights >= cfg.min_weight, weights, 0.0)
    wblock = max(int(cfg.weight_block_s * fs), 1)
    n_blocks = max(n // wblock, 1)
    head = (n_blocks - 1) * wblock  # the last block takes the tail
    counts = np.full(n_blocks, wblock)
    counts[-1] = n - head
    numerator = np.zeros(n)
    denominator = np.full(n_blocks, 1e-30)
    start = 0
    for energy, c, background in parts:
        local = weights[start : start + len(c), None] / (background + cfg.background)
        numerator[:head] += np.einsum("lb,lbt->bt", local[:, :-1], energy[:, :head].reshape(len(c), -1, wblock)
                                      ).ravel()
        numerator[head:] += local[:, -1] @ energy[:, head:]
        denominator += local.sum(axis=0)
        start += len(c)
    total = weights.sum()
    if total > 0:
        weights = weights / total
    width = max(int(round(cfg.integration_s * fs)), 1)
    fused = numerator / np.repeat(denominator, counts)
    # a running mean of non-negative values can come out a rounding error below 0 where the signal is constant
    smoothed = np.maximum(ndimage.uniform_filter1d(fused, width, mode="nearest"), 0.0)
    return np.sqrt(smoothed), fused, weights, contrast


def window_index(centres: np.ndarray, offsets: np.ndarray, n: int) -> np.ndarray:
    """Sample indices ``centres[:, None] + offsets`` ``(len(centres), len(offsets))`` clipped to ``0 .. n - 1``
    (as ``np.clip``, without its overhead)."""
    index = centres[:, None] + offsets
    np.maximum(index, 0, out=index)
    return np.minimum(index, n - 1, out=index)


def _slope_at(fused: np.ndarray, at: np.ndarray, fs: float, cfg: PeakConfig) -> np.ndarray:
    """QRS slope at envelope maxima ``at``: the root of the largest fused energy within the integration window."""
    width = max(int(round(cfg.integration_s * fs)), 1)
    window = window_index(at, np.arange(-(width // 2), width - width // 2), len(fused))
    return np.sqrt(fused[window].max(axis=1))


def _running_levels(env: np.ndarray, at: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, np.ndarray]:
    """QRS level and background level of the envelope at samples ``at``, from medians over nearby blocks."""
    block = max(int(cfg.block_s * fs), 1)
    peaks = running_quantile(_block_stat(env, block, np.max), cfg.level_blocks)
    floors = running_quantile(_block_stat(env, block, _sparse_median), cfg.level_blocks)
    centres = (np.arange(len(peaks)) + 0.5) * block
    return np.interp(at, centres, peaks), np.interp(at, centres, floors)


def refine(sig: np.ndarray, fs: float, peaks: np.ndarray, weights: np.ndarray, cfg: PeakConfig
            ) -> tuple[np.ndarray, int, int]:
    """Move each detection to the R extremum of the highest-weighted lead; returns peaks, lead, polarity.

    Within ``refine_s`` of a detection the lead's deviation from its local baseline (the median over
    ``baseline_s`` around it) is searched for the extremum of the record's dominant QRS polarity; a beat
    whose opposite extremum is more than ``flip_ratio`` times larger (a PVC of the other sign) takes that one.
    """
    lead = int(np.argmax(weights))
    x = sig[lead]
    wide = max(int(round(cfg.baseline_s * fs)), 1)
    baseline = _median(np.asarray(x[window_index(peaks, np.arange(-wide, wide + 1, max(wide // 25, 1)), len(x))],
                                  dtype=np.float64))
    half = max(int(round(cfg.refine_s * fs)), 1)
    idx = window_index(peaks, np.arange(-half - 1, half + 2), len(x))  # one more sample on either side
    window = np.asarray(x[idx], dtype=np.float64)
    seg = _median3(window[:, :-2], window[:, 1:-1], window[:, 2:]) - baseline[:, None]
    high, low = seg.max(axis=1), -seg.min(axis=1)
    polarity = 1 if _median(high - low) >= 0 else -1
    major, minor = (high, low) if polarity > 0 else (low, high)
    sign = np.where(minor > cfg.flip_ratio * major, -polarity, polarity)
    refined = idx[np.arange(len(peaks)), 1 + np.argmax(sign[:, None] * seg, axis=1)]
    return np.unique(refined.astype(np.int64)), lead, polarity


def _median3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Elementwise median of three arrays of one shape."""
    low, high = np.minimum(a, b), np.maximum(a, b)
    np.minimum(high, c, out=high)
    return np.maximum(low, high, out=low)


def _despike(x: np.ndarray) -> np.ndarray:
    """Running median of three samples along the last axis (ends kept): removes one-sample spikes (artefacts,
    saturation glitches, pacemaker pulses) and leaves anything wider nearly unchanged."""
    out = np.array(x, dtype=np.float64)
    if x.shape[-1] >= 3:
        out[..., 1:-1] = _median3(x[..., :-2], x[..., 1:-1], x[..., 2:])
    return out


def _decimate(sig: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, int]:
    """Boxcar-average ``sig`` by the integer factor that brings ``fs`` nearest above ``cfg.detect_hz`` (at most the
    number of samples), then remove one-sample spikes."""
    q = max(min(int(fs // cfg.detect_hz), sig.shape[-1]), 1)
    if q == 1:
        return _despike(sig), 1
    n = sig.shape[-1] // q
    out = sig[:, 0 : n * q : q].astype(np.float64)
    for k in range(1, q):
        out += sig[:, k : n * q : q]
    out /= q
    return _despike(out), q


def find_candidates(sig: np.ndarray, fs: float, cfg: PeakConfig) -> Candidates:
    """Envelope maxima of ``sig`` ``(leads, samples)`` (mV, ``fs`` Hz) with their levels and the rule verdict.

    A record without a usable lead has no candidates.
    """
    small, q = _decimate(sig, fs, cfg)
    fs_small = fs / q
    env, fused, weights, contrast = _envelope(small, fs_small, cfg)
    if weights.any():
        index, _ = sps.find_peaks(env, distance=max(int(cfg.refractory_s * fs_small), 1))
        height = env[index]
    else:
        index, height = np.zeros(0, dtype=np.int64), np.zeros(0)
    level, floor = _running_levels(env, index, fs_small, cfg)
    if cfg.beat_window:
        big = np.flatnonzero(height >= np.minimum(floor + cfg.beat_fraction * (level - floor), cfg.beat_snr * floor))
        if len(big) >= 3:
            level = np.interp(index, index[big], running_quantile(height[big], cfg.beat_window, cfg.beat_quantile))
    thr = floor + cfg.threshold * (level - floor)
    slope = _slope_at(fused, index, fs_small, cfg)
    accepted = search_back(index, height, height >= thr, cfg.searchback_threshold * thr, fs_small, cfg)
    accepted = drop_t_waves(index, height, slope, accepted, fs_small, cfg)
    accepted = rescue_gaps(index, height, accepted, floor, len(env), fs_small, cfg)
    return Candidates(fs=fs_small, q=q, small=small, env=env, fused=fused, weights=weights, contrast=contrast,
                      index=index, height=height, level=level, floor=floor, threshold=thr, slope=slope,
                      rule=accepted)


def to_peaks(sig: np.ndarray, fs: float, cands: Candidates, chosen: np.ndarray, cfg: PeakConfig
             ) -> tuple[np.ndarray, dict[str, object]]:
    """R-peaks (input-rate samples) of the ``chosen`` candidates (bool mask): refined to the R extremum, minus
    those within ``cfg.edge_s`` of either end; and the info entries of the detection."""
    info = cands.info()
    peaks = cands.index[chosen] * cands.q + cands.q // 2
    if len(peaks) == 0:
        return np.zeros(0, dtype=np.int64), info
    peaks, lead, polarity = refine(sig, fs, peaks, cands.weights, cfg)
    edge = int(round(cfg.edge_s * fs))
    info.update(refine_lead=lead, polarity=polarity)
    return peaks[(peaks >= edge) & (peaks < sig.shape[-1] - edge)], info
