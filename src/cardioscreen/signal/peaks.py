"""R-peak detection fused across all leads of a record.

Candidates come from one QRS envelope built from every lead (:mod:`cardioscreen.signal.peak_candidates`): the
record is boxcar-decimated to about 150 Hz and freed of one-sample spikes; each lead is band-passed (5-20 Hz),
differentiated and squared, normalised by its own typical QRS level and clipped; the leads are averaged with weights
that favour leads whose QRS complexes stand out of their background, both over the whole record and second by
second (so a flat, noise-only or briefly disturbed lead hardly counts), and a moving-window integrator makes an
RMS envelope whose local maxima, at least a refractory period apart, are the candidates (nearly every beat is one).

Two detectors decide among them. The default, :func:`~cardioscreen.signal.peak_verify.verified_peaks`, scores each
candidate with a small gradient-boosted tree ensemble on features that weigh height, slope, width, QRS shape
against the record's template and neighbours, timing against the local rhythm, noise and the record's ends
(:mod:`cardioscreen.signal.peak_features`); it is trained on annotated MIT-BIH, CPSC 2019 and LUDB records
(``cardioscreen train-peaks``). The ``"rules"`` detector accepts maxima above an adaptive threshold (a fraction of
the running upper quartile of beat-like heights over the background), searches long RR gaps again at a lower
threshold, rescues a clear maximum past the previous T wave from a long gap, and drops weak maxima soon after a
strong one or the less steep of two premature ones as T waves (:mod:`cardioscreen.signal.peak_select`); its
verdict is also one of the verifier's inputs. Each chosen candidate is finally moved, at the full sampling rate, to
the R extremum of the clearest lead, sign-aware, so inverted QRS complexes are located as well as upright ones;
R-peaks whose QRS is cut by the record's start or end are not reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.peak_candidates import find_candidates, to_peaks
from cardioscreen.signal.peak_verify import verified_peaks

logger = logging.getLogger(__name__)

__all__ = ["PeakConfig", "PeakScore", "ecg_peaks", "match_peaks", "peak_methods"]

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
    refine_s, baseline_s, flip_ratio : see :func:`cardioscreen.signal.peak_candidates.refine`.
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


def _rules(sig: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, dict[str, Any]]:
    """The rule detector: the candidates that the rules of :mod:`cardioscreen.signal.peak_select` accept."""
    cands = find_candidates(sig, fs, cfg)
    return to_peaks(sig, fs, cands, cands.rule, cfg)


def _neurokit(sig: np.ndarray, fs: float, cfg: PeakConfig) -> tuple[np.ndarray, dict[str, Any]]:
    """neurokit2's default detector (``ecg_clean`` then ``ecg_peaks``) on the first lead, for comparison."""
    import neurokit2 as nk

    rate = int(round(fs))
    cleaned = nk.ecg_clean(np.asarray(sig[0], dtype=np.float64), sampling_rate=rate)
    _, found = nk.ecg_peaks(cleaned, sampling_rate=rate)
    return np.asarray(found["ECG_R_Peaks"], dtype=np.int64), {"leads_used": [0]}


_METHODS: dict[str, Callable[[np.ndarray, float, PeakConfig], tuple[np.ndarray, dict[str, Any]]]] = {
    "default": verified_peaks,
    "rules": _rules,
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
        ``"default"`` (fused multi-lead envelope candidates decided by the learned verifier of
        :mod:`cardioscreen.signal.peak_verify`), ``"rules"`` (the same candidates decided by the rules of
        :mod:`cardioscreen.signal.peak_select`) or ``"neurokit"`` (neurokit2's detector on the first lead).
    config : PeakConfig
        Parameters of the candidate generator and the rules.

    Returns
    -------
    peaks : np.ndarray
        R-peak sample indices, int64, sorted, unique.
    info : dict
        ``method``, ``fs``, ``leads_used`` (row indices that contributed), and for the envelope methods
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
