"""R-peak detection fused across all leads of a record.

The default detector works on a boxcar-decimated copy of the record (about 150 Hz), freed of one-sample
spikes by a three-point running median, and builds one QRS envelope from every lead: each lead is band-
passed (5-20 Hz), differentiated and squared, normalised by its own typical QRS level and clipped; the leads
are averaged with weights that favour leads whose QRS complexes stand out of their background, both over the
whole record and second by second (so a lead that is flat, noise-only or briefly disturbed hardly counts),
and the average is smoothed by a moving-window integrator into an RMS envelope. Beats are the envelope's
local maxima (at least a refractory period apart) above an adaptive threshold: a fraction of the typical
height of nearby beats over the background (the typical height is a running upper quartile over every
maximum that looks like a beat, either relative to the largest complexes or to the background, with running
levels that shrink rather than repeat at the record's ends, so that a few huge ectopic beats or artefacts do
not hide the small normal ones). RR gaps that are too long are searched again at a lower threshold, and a
clear maximum past the T wave of the previous beat is taken from a long gap; a weak maximum soon after a
strong one, or the less steep of two maxima too close for the local rhythm, is taken for a T wave (these
rules are in :mod:`cardioscreen.signal.peak_select`). Each detection is finally moved, at the full sampling
rate, to the R extremum of the clearest lead, sign-aware, so inverted QRS complexes are located as well as
upright ones; R-peaks whose QRS is cut by the record's start or end are not reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import ndimage
from scipy import signal as sps

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.peak_select import drop_t_waves, rescue_gaps, running_quantile, search_back

logger = logging.getLogger(__name__)

__all__ = ["PeakConfig", "PeakScore", "ecg_peaks", "match_peaks", "peak_methods"]

_CHUNK_ELEMENTS = 4_000_000
"""Leads are filtered in groups of at most this many samples in all, which bounds memory on long records."""


@dataclass(frozen=True)
class PeakConfig:
    """Parameters of the fused-envelope detector (times in seconds, frequencies in Hz).

    The defaults were tuned on MIT-BIH (100-series), CPSC 2019 and LUDB together (``bench/peaks.py``).

    Attributes
    ----------
    detect_hz : lowest rate the detection runs at (the record is decimated by ``fs // detect_hz``).
    band_hz : QRS band of the envelope.
    clip : cap of a lead's normalised energy (in units of its typical QRS energy), against artifacts.
    min_weight : leads whose QRS contrast is below this fraction of the best lead's are left out.
    weight_block_s, background : length of the blocks of local lead weighting, and the background
        (normalised energy) added to each block's own so that clean blocks do not get unbounded weight.
    integration_s : moving-window integrator width.
    refractory_s : least distance between two beats.
    block_s, level_blocks : blocks in which the envelope's QRS and background levels are measured, and how
        many neighbouring blocks their running medians span.
    beat_window, beat_fraction, beat_snr, beat_quantile : the threshold reference is the running
        ``beat_quantile`` quantile of the heights of this many nearby candidates that reach ``beat_fraction`` of
        the block level or ``beat_snr`` times the background level (``beat_window=0`` turns it off: the block
        level is used). Those candidates include P and T waves where the background is quiet, hence a quantile
        above the median.
    threshold : a beat must reach background + ``threshold`` x (reference - background).
    searchback_rr, searchback_s, searchback_threshold : RR gaps longer than ``searchback_rr`` x the local
        median RR, or longer than ``searchback_s`` (under 40 bpm, where small beats beside large ectopic ones
        were likely missed), are searched again with the threshold scaled by ``searchback_threshold``.
    t_wave_s, t_wave_ratio : a beat within ``t_wave_s`` of the previous one and below ``t_wave_ratio`` of its
        height is dropped as a T wave (``t_wave_s=0`` turns it off).
    t_zone_s, premature_rr : of two beats less than ``t_zone_s`` apart (the latest a T wave peaks after its
        R wave) and closer than ``premature_rr`` x the local RR, the one with the lower QRS slope is dropped.
    rescue_rr, rescue_snr, rescue_dominance : in an RR gap longer than ``rescue_rr`` x the local median RR,
        the highest maximum that lies at least ``t_zone_s`` after the previous beat, reaches ``rescue_snr``
        times the background level and ``rescue_dominance`` times every other maximum there, is a beat.
    edge_s : R-peaks closer than this to the record's first or last sample (QRS cut off) are not reported.
    refine_s, baseline_s, flip_ratio : see :func:`_refine`.
    """

    detect_hz: float = 150.0
    band_hz: tuple[float, float] = (5.0, 20.0)
    clip: float = 6.0
    min_weight: float = 0.05
    weight_block_s: float = 1.0
    background: float = 0.0003
    integration_s: float = 0.08
    refractory_s: float = 0.2
    block_s: float = 2.0
    level_blocks: int = 11
    beat_window: int = 15
    beat_fraction: float = 0.25
    beat_snr: float = 2.5
    beat_quantile: float = 0.75
    threshold: float = 0.4
    searchback_rr: float = 1.6
    searchback_threshold: float = 0.5
    searchback_s: float = 1.5
    t_wave_s: float = 0.3
    t_wave_ratio: float = 0.6
    t_zone_s: float = 0.36
    premature_rr: float = 0.4
    rescue_rr: float = 1.45
    rescue_snr: float = 2.0
    rescue_dominance: float = 2.0
    refine_s: float = 0.08
    baseline_s: float = 0.3
    flip_ratio: float = 1.5
    edge_s: float = 0.06

    def __post_init__(self) -> None:
        low, high = self.band_hz
        if not 0 < low < high:
            raise CardioScreenError(f"band must be 0 < low < high Hz, got {self.band_hz}")
        if not 0 < self.threshold < 1 or not 0 < self.searchback_threshold <= 1:
            raise CardioScreenError("thresholds must be fractions in (0, 1]")
        if self.level_blocks < 1 or self.level_blocks % 2 == 0:
            raise CardioScreenError(f"level_blocks must be a positive odd number, got {self.level_blocks}")
        for name in ("integration_s", "refractory_s", "block_s", "weight_block_s", "background", "searchback_rr",
                     "searchback_s", "clip", "refine_s", "baseline_s", "flip_ratio", "detect_hz", "beat_snr",
                     "t_zone_s", "premature_rr", "rescue_rr", "rescue_snr", "rescue_dominance"):
            if not getattr(self, name) > 0:
                raise CardioScreenError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.beat_quantile < 1:
            raise CardioScreenError(f"beat_quantile must be in (0, 1), got {self.beat_quantile}")
        if self.edge_s < 0:
            raise CardioScreenError(f"edge_s must not be negative, got {self.edge_s}")


DEFAULT_CONFIG = PeakConfig()


@lru_cache(maxsize=32)
def _bandpass(fs: float, low: float, high: float) -> np.ndarray:
    return sps.butter(2, [low, min(high, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")


def _block_stat(x: np.ndarray, block: int, fn: Callable[..., np.ndarray]) -> np.ndarray:
    """``fn`` over consecutive blocks of ``block`` samples along the last axis (a short tail joins the last)."""
    n = x.shape[-1]
    n_blocks = max(n // block, 1)
    head = x[..., : n_blocks * block].reshape(*x.shape[:-1], n_blocks, -1)
    out = fn(head, axis=-1)
    tail = n - n_blocks * block
    if tail and n >= block:
        out[..., -1] = fn(np.concatenate([head[..., -1, :], x[..., n_blocks * block :]], axis=-1), axis=-1)
    return np.asarray(out)


def _sparse_median(x: np.ndarray, axis: int) -> np.ndarray:
    """Median along the last axis from at most about 64 evenly spaced values (``axis`` must be -1)."""
    step = max(x.shape[-1] // 64, 1)
    return np.asarray(np.median(x[..., ::step], axis=axis))


def _lead_energy(x: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised QRS energy of each lead, its QRS contrast and its local background.

    Energy is the squared derivative of the band-passed lead divided by the median of its block maxima
    (the typical QRS level), clipped at ``cfg.clip``: ``(leads, samples)``. Contrast ``(leads,)`` is that
    level over the lead's median energy: high for clear QRS complexes, low for flat, noise-only or wandering
    leads. The background ``(leads, blocks)`` is the median normalised energy of each ``weight_block_s`` block.
    """
    sos = _bandpass(fs, *cfg.band_hz)
    bp = sps.sosfiltfilt(sos, x, axis=-1, padlen=min(x.shape[-1] - 1, int(fs)))
    energy = np.diff(bp, axis=-1, prepend=bp[..., :1]) ** 2
    level = np.median(_block_stat(energy, max(int(cfg.block_s * fs), 1), np.max), axis=-1)
    ok = level > 1e-12
    energy /= np.where(ok, level, 1.0)[:, None]
    np.minimum(energy, cfg.clip, out=energy)
    wblock = max(int(cfg.weight_block_s * fs), 1)
    background = _block_stat(energy, wblock, _sparse_median)
    floor = np.median(background, axis=-1)
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
    block_of = np.minimum(np.arange(n) // wblock, max(n // wblock, 1) - 1)
    numerator = np.zeros(n)
    denominator = np.full(n, 1e-30)
    start = 0
    for energy, c, background in parts:
        local = (weights[start : start + len(c), None] / (background + cfg.background))[:, block_of]
        numerator += np.einsum("ij,ij->j", local, energy)
        denominator += local.sum(axis=0)
        start += len(c)
    total = weights.sum()
    if total > 0:
        weights = weights / total
    width = max(int(round(cfg.integration_s * fs)), 1)
    fused = numerator / denominator
    return np.sqrt(ndimage.uniform_filter1d(fused, width, mode="nearest")), fused, weights, contrast


def _slope_at(fused: np.ndarray, at: np.ndarray, fs: float, cfg: PeakConfig) -> np.ndarray:
    """QRS slope at envelope maxima ``at``: the root of the largest fused energy within the integration window."""
    width = max(int(round(cfg.integration_s * fs)), 1)
    window = np.clip(at[:, None] + np.arange(-(width // 2), width - width // 2), 0, len(fused) - 1)
    return np.sqrt(fused[window].max(axis=1))


def _running_levels(env: np.ndarray, at: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, np.ndarray]:
    """QRS level and background level of the envelope at samples ``at``, from medians over nearby blocks."""
    block = max(int(cfg.block_s * fs), 1)
    peaks = running_quantile(_block_stat(env, block, np.max), cfg.level_blocks)
    floors = running_quantile(_block_stat(env, block, _sparse_median), cfg.level_blocks)
    centres = (np.arange(len(peaks)) + 0.5) * block
    return np.interp(at, centres, peaks), np.interp(at, centres, floors)


def _refine(sig: np.ndarray, fs: float, peaks: np.ndarray, weights: np.ndarray, cfg: PeakConfig
            ) -> tuple[np.ndarray, int, int]:
    """Move each detection to the R extremum of the highest-weighted lead; returns peaks, lead, polarity.

    Within ``refine_s`` of a detection the lead's deviation from its local baseline (the median over
    ``baseline_s`` around it) is searched for the extremum of the record's dominant QRS polarity; a beat
    whose opposite extremum is more than ``flip_ratio`` times larger (a PVC of the other sign) takes that one.
    """
    lead = int(np.argmax(weights))
    x = np.asarray(sig[lead], dtype=np.float64)
    wide = max(int(round(cfg.baseline_s * fs)), 1)
    base_idx = np.clip(peaks[:, None] + np.arange(-wide, wide + 1, max(wide // 25, 1))[None, :], 0, len(x) - 1)
    half = max(int(round(cfg.refine_s * fs)), 1)
    idx = np.clip(peaks[:, None] + np.arange(-half, half + 1)[None, :], 0, len(x) - 1)
    despiked = _median3(x[np.maximum(idx - 1, 0)], x[idx], x[np.minimum(idx + 1, len(x) - 1)])
    seg = despiked - np.median(x[base_idx], axis=1, keepdims=True)
    high, low = seg.max(axis=1), -seg.min(axis=1)
    polarity = 1 if np.median(high - low) >= 0 else -1
    major, minor = (high, low) if polarity > 0 else (low, high)
    sign = np.where(minor > cfg.flip_ratio * major, -polarity, polarity)
    refined = idx[np.arange(len(peaks)), np.argmax(sign[:, None] * seg, axis=1)]
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
    """Boxcar-average ``sig`` by the integer factor that brings ``fs`` nearest above ``cfg.detect_hz``, then
    remove one-sample spikes."""
    q = max(int(fs // cfg.detect_hz), 1)
    if q == 1:
        return _despike(sig), 1
    n = sig.shape[-1] // q
    out = sig[:, 0 : n * q : q].astype(np.float64)
    for k in range(1, q):
        out += sig[:, k : n * q : q]
    return _despike(out / q), q


def _fused(sig: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, dict[str, Any]]:
    small, q = _decimate(sig, fs, cfg)
    fs_small = fs / q
    env, fused, weights, contrast = _envelope(small, fs_small, cfg)
    info: dict[str, Any] = {"weights": weights.round(4).tolist(), "contrast": contrast.round(1).tolist(),
                            "leads_used": np.flatnonzero(weights > 0).tolist()}
    if not weights.any():
        return np.zeros(0, dtype=np.int64), info
    cand, props = sps.find_peaks(env, distance=max(int(cfg.refractory_s * fs_small), 1), height=0)
    height = props["peak_heights"]
    level, floor = _running_levels(env, cand, fs_small, cfg)
    if cfg.beat_window:
        big = np.flatnonzero(height >= np.minimum(floor + cfg.beat_fraction * (level - floor), cfg.beat_snr * floor))
        if len(big) >= 3:
            level = np.interp(cand, cand[big], running_quantile(height[big], cfg.beat_window, cfg.beat_quantile))
    thr = floor + cfg.threshold * (level - floor)
    accepted = search_back(cand, height, height >= thr, cfg.searchback_threshold * thr, fs_small, cfg)
    accepted = drop_t_waves(cand, height, _slope_at(fused, cand, fs_small, cfg), accepted, fs_small, cfg)
    accepted = rescue_gaps(cand, height, accepted, floor, len(env), fs_small, cfg)
    peaks = cand[accepted] * q + q // 2
    if len(peaks) == 0:
        return np.zeros(0, dtype=np.int64), info
    peaks, lead, polarity = _refine(sig, fs, peaks, weights, cfg)
    edge = int(round(cfg.edge_s * fs))
    peaks = peaks[(peaks >= edge) & (peaks < sig.shape[-1] - edge)]
    info.update(refine_lead=lead, polarity=polarity)
    return peaks, info


def _neurokit(sig: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, dict[str, Any]]:
    """neurokit2's default detector (``ecg_clean`` then ``ecg_peaks``) on the first lead, for comparison."""
    import neurokit2 as nk

    rate = int(round(fs))
    cleaned = nk.ecg_clean(np.asarray(sig[0], dtype=np.float64), sampling_rate=rate)
    _, found = nk.ecg_peaks(cleaned, sampling_rate=rate)
    return np.asarray(found["ECG_R_Peaks"], dtype=np.int64), {"leads_used": [0]}


_METHODS: dict[str, Callable[[np.ndarray, float, PeakConfig], tuple[np.ndarray, dict[str, Any]]]] = {
    "default": _fused,
    "neurokit": _neurokit,
}


def peak_methods() -> tuple[str, ...]:
    """Names accepted by :func:`ecg_peaks`'s ``method``."""
    return tuple(_METHODS)


def ecg_peaks(sig: np.ndarray, fs: float, method: str = "default", config: PeakConfig = DEFAULT_CONFIG
              ) -> tuple[np.ndarray, dict[str, Any]]:
    """Find R-peaks using every lead of a record.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)`` (or ``(samples,)``), millivolts; raw or cleaned, any number of leads.
    fs : float
        Sampling rate in Hz.
    method : str
        ``"default"`` (fused multi-lead envelope) or ``"neurokit"`` (neurokit2's detector on the first lead).
    config : PeakConfig
        Parameters of the default detector.

    Returns
    -------
    peaks : np.ndarray
        R-peak sample indices, int64, sorted, unique.
    info : dict
        ``method``, ``fs``, ``leads_used`` (row indices that contributed), and for the default method
        ``weights`` (per lead, sum 1), ``contrast`` (per lead: typical QRS energy over median energy, near
        0 for a flat lead and low for noise), ``refine_lead`` and ``polarity`` (+1 upright, -1 inverted R).
    """
    if method not in _METHODS:
        raise CardioScreenError(f"unknown peak method {method!r}; known methods: {', '.join(_METHODS)}")
    if not fs > 0:
        raise CardioScreenError(f"sampling rate must be positive, got {fs}")
    x = np.atleast_2d(np.asarray(sig))
    if x.ndim != 2 or x.shape[-1] < 2:
        raise CardioScreenError(f"signal must be (leads, samples), got shape {np.shape(sig)}")
    peaks, info = _METHODS[method](x, float(fs), config)
    info.update(method=method, fs=float(fs))
    logger.debug("%d R-peaks by %s at %g Hz from leads %s", len(peaks), method, fs, info.get("leads_used"))
    return peaks, info


@dataclass(frozen=True)
class PeakScore:
    """Counts of a one-to-one matching of detected to reference beats."""

    tp: int
    fn: int
    fp: int

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def ppv(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fn + self.fp) if self.tp + self.fn + self.fp else 1.0

    def __add__(self, other: PeakScore) -> PeakScore:
        return PeakScore(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp)


def match_peaks(reference: np.ndarray, detected: np.ndarray, tolerance: int) -> PeakScore:
    """Match sorted detections to sorted reference beats one-to-one within ``tolerance`` samples."""
    ref = np.sort(np.asarray(reference, dtype=np.int64))
    det = np.sort(np.asarray(detected, dtype=np.int64))
    i = j = tp = 0
    while i < len(ref) and j < len(det):
        gap = abs(int(ref[i]) - int(det[j]))
        closer_to_next = i + 1 < len(ref) and abs(int(ref[i + 1]) - int(det[j])) < gap
        if gap <= tolerance and not closer_to_next:
            tp += 1
            i += 1
            j += 1
        elif det[j] < ref[i] and not closer_to_next:
            j += 1
        else:
            i += 1
    return PeakScore(tp=tp, fn=len(ref) - tp, fp=len(det) - tp)
