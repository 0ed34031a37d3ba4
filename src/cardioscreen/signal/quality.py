"""Signal quality: what is wrong with each lead, and whether the record can be analysed at all.

Per lead the checks are flat line, lead-off (stretches of a constant value), clipping, excessive noise
(high-frequency power, or no QRS complexes standing out of the background), powerline interference and
baseline wander, all from one FFT of the record and a few vectorised statistics. Across leads: likely
limb-lead reversal (P and QRS negative in lead I, upright QRS in V6, aVR above aVL). The thresholds were set
on the 434 real PTB-XL records of ``../shared/data/ptbxl`` (500 Hz) and synthetic corruptions of them
(zeroed leads, white noise, 50 Hz hum, clipping, wander); see :class:`QualityThresholds`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import ndimage

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.delineation.fiducials import median
from cardioscreen.signal.peaks import ecg_peaks

logger = logging.getLogger(__name__)

__all__ = ["ISSUES", "QualityReport", "QualityThresholds", "ecg_quality"]

ISSUES: dict[str, str] = {
    "flat": "flat line",
    "lead_off": "signal lost (constant value) for part of the record",
    "noise": "excessive noise, QRS complexes not distinguishable",
    "clipping": "clipped or saturated amplitude",
    "powerline": "powerline (50/60 Hz) interference",
    "baseline_wander": "strong baseline wander",
    "limb_reversal": "likely limb-lead reversal (P and QRS inverted in lead I, aVR above aVL: RA/LA swapped?)",
}
"""Issue codes and what they mean, in the order reasons are listed."""

LEAD_UNUSABLE: frozenset[str] = frozenset({"flat", "lead_off", "noise"})
"""Issues that take a lead out of :attr:`QualityReport.usable_leads`; the others only warn."""


@dataclass(frozen=True)
class QualityThresholds:
    """Limits of the quality checks.

    On the 434 PTB-XL records (5,208 leads): lead std >= 0.028 mV, high-frequency / QRS-band power <= 0.14 for
    99.5 % of leads (white noise: >= 4), QRS contrast >= 62 for 99.5 % (white noise: <= 31; but wide, smooth
    complexes such as ventricular tachycardia also score low, hence noise needs high-frequency power above
    ``noise_hf_floor`` too, which white noise sampled at 100 Hz still has), powerline / QRS-band
    power <= 0.019 for 99.5 % (0.1 mV of 50 Hz: >= 0.06), low-frequency / QRS-band power <= 5.6 for 99.5 %
    (1 mV of 0.3 Hz sway: >= 8), samples within 0.2 % of the range from the extremes <= 1.7 % (clipping at 60 %
    of the range: >= 6 %).
    """

    flat_std_mv: float = 0.01
    constant_run_s: float = 0.5
    lead_off_fraction: float = 0.05
    clip_fraction: float = 0.03
    noise_hf_ratio: float = 0.4
    noise_min_contrast: float = 40.0
    noise_hf_floor: float = 0.05
    powerline_ratio: float = 0.05
    wander_ratio: float = 8.0
    min_rate_bpm: float = 20.0
    max_rate_bpm: float = 300.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise CardioScreenError(f"quality threshold {name} must be positive, got {value}")


DEFAULT_THRESHOLDS = QualityThresholds()


@dataclass(frozen=True)
class QualityReport:
    """Outcome of :func:`ecg_quality`.

    Attributes
    ----------
    verdict : str
        ``"usable"`` (no issue), ``"warn"`` (analysable, with issues) or ``"unusable"``.
    reasons : tuple of str
        Human-readable reasons for a verdict other than ``"usable"``.
    per_lead : dict
        Lead name -> tuple of issue codes (keys of :data:`ISSUES`), empty for a clean lead.
    usable_leads : tuple of str
        Leads without a disqualifying issue (:data:`LEAD_UNUSABLE`).
    measures : dict
        Lead name -> the measured values behind the checks.
    heart_rate_bpm : float or None
        Mean heart rate from the R-peaks of the usable leads.
    """

    verdict: str
    reasons: tuple[str, ...]
    per_lead: dict[str, tuple[str, ...]]
    usable_leads: tuple[str, ...]
    measures: dict[str, dict[str, float]] = field(default_factory=dict)
    heart_rate_bpm: float | None = None

    def __post_init__(self) -> None:
        if self.verdict not in ("usable", "warn", "unusable"):
            raise CardioScreenError(f"verdict must be usable, warn or unusable, got {self.verdict!r}")

    @property
    def unusable_leads(self) -> tuple[str, ...]:
        """Leads with a disqualifying issue (flat, lost or noisy: :data:`LEAD_UNUSABLE`), in record order."""
        return tuple(lead for lead, codes in self.per_lead.items() if LEAD_UNUSABLE.intersection(codes))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (lists instead of tuples)."""
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "per_lead": {lead: list(codes) for lead, codes in self.per_lead.items()},
            "usable_leads": list(self.usable_leads),
            "measures": self.measures,
            "heart_rate_bpm": self.heart_rate_bpm,
        }


@lru_cache(maxsize=16)
def _band_masks(n: int, fs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Masks over ``rfftfreq(n, 1 / fs)``: QRS band (0.5-40 Hz), high frequencies (>= 40 Hz), powerline
    fundamentals and low frequencies (< 0.5 Hz); the first two leave out +-1 Hz around every 50 and 60 Hz harmonic."""
    freq = np.fft.rfftfreq(n, 1.0 / fs)
    hum = np.zeros(len(freq), dtype=bool)
    for base in (50.0, 60.0):
        harmonics = np.arange(base, freq[-1] + 1.0, base)
        hum |= (np.abs(freq[:, None] - harmonics[None, :]) <= 1.0).any(axis=1)
    fundamental = (np.abs(freq - 50.0) <= 1.0) | (np.abs(freq - 60.0) <= 1.0)
    masks = ((freq >= 0.5) & (freq < 40.0) & ~hum, (freq >= 40.0) & ~hum, fundamental, (freq > 0) & (freq < 0.5))
    for mask in masks:
        mask.setflags(write=False)
    return masks


def _band_ratios(x: np.ndarray, fs: float) -> dict[str, np.ndarray]:
    """Per-lead power ratios to the 0.5-40 Hz band: high-frequency (>= 40 Hz), powerline, low-frequency."""
    spectrum = np.fft.rfft(x, axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    qrs, high, fundamental, low = _band_masks(x.shape[-1], float(fs))
    qrs_band = power[:, qrs].sum(axis=-1) + 1e-30
    return {
        "hf_ratio": power[:, high].sum(axis=-1) / qrs_band,
        "powerline_ratio": power[:, fundamental].sum(axis=-1) / qrs_band,
        "wander_ratio": power[:, low].sum(axis=-1) / qrs_band,
    }


def _constant_fraction(x: np.ndarray, fs: float, run_s: float) -> np.ndarray:
    """Fraction of each lead's samples lying in runs of one constant value at least ``run_s`` long."""
    width = max(int(round(run_s * fs)), 2)
    still = np.diff(x, axis=-1) == 0
    in_run = ndimage.maximum_filter1d(
        (ndimage.uniform_filter1d(still.astype(np.float32), width, axis=-1, mode="constant") > 1 - 1e-6)
        .astype(np.uint8), width, axis=-1, mode="constant")
    return np.asarray(in_run.mean(axis=-1))


def _clip_fraction(x: np.ndarray) -> np.ndarray:
    """Fraction of each lead's samples within 0.2 % of its range from its maximum or minimum."""
    top, bottom = x.max(axis=-1, keepdims=True), x.min(axis=-1, keepdims=True)
    margin = 0.002 * (top - bottom)
    return np.asarray(((x >= top - margin) | (x <= bottom + margin)).mean(axis=-1))


def _median_beat_waves(cleaned: np.ndarray, fs: float, r_peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Net QRS and P deflections of each row's median beat, mV, ``(rows,)`` each, from cleaned rows.

    A deflection is largest rise plus largest fall relative to the baseline 300-250 ms before R: the QRS
    within 50 ms of R, the P wave 250-80 ms before R. Positive means predominantly upright.
    """
    before, after = int(round(0.3 * fs)), int(round(0.1 * fs))
    beats = r_peaks[(r_peaks >= before) & (r_peaks < cleaned.shape[-1] - after)]
    if len(beats) == 0:
        return np.zeros(len(cleaned)), np.zeros(len(cleaned))
    beat = median(cleaned[:, beats[:, None] + np.arange(-before, after)[None, :]], axis=1)
    beat -= beat[:, : int(round(0.05 * fs))].mean(axis=1, keepdims=True)
    qrs = beat[:, before - int(round(0.05 * fs)) : before + int(round(0.05 * fs))]
    p_wave = beat[:, before - int(round(0.25 * fs)) : before - int(round(0.08 * fs))]
    return qrs.max(axis=1) + qrs.min(axis=1), p_wave.max(axis=1) + p_wave.min(axis=1)


REVERSAL_LEADS = ("I", "aVR", "aVL", "V6")
"""Leads the limb-reversal check needs (all usable)."""


def _limb_reversal(x: np.ndarray, fs: float, names: tuple[str, ...], r_peaks: np.ndarray,
                   cleaned: np.ndarray | None) -> bool:
    """Right- and left-arm electrodes likely swapped.

    Lead I has inverted QRS and P waves while V6 (which the arm electrodes do not affect) has an upright QRS,
    and aVR is less negative than aVL (swapping the arms swaps them, and aVR is normally the most negative).
    On the 434 PTB-XL records: 1 flagged; of the same records with the arms swapped in software, 385 flagged.
    """
    if not set(REVERSAL_LEADS).issubset(names):
        return False
    from cardioscreen.signal.clean import ecg_clean

    rows = [names.index(name) for name in REVERSAL_LEADS]

    def waves(chosen: list[int]) -> tuple[np.ndarray, np.ndarray]:
        return _median_beat_waves(ecg_clean(x[chosen], fs) if cleaned is None else cleaned[chosen], fs, r_peaks)

    # Lead I alone first (each lead is cleaned on its own): most records stop here, with an upright lead I.
    qrs, p_wave = waves(rows[:1])
    if not (qrs[0] < 0 and p_wave[0] < 0):
        return False
    qrs, _ = waves(rows[1:])
    avr, avl, v6 = qrs
    return bool(v6 > 0 and avr > avl)


def _lead_issues(x: np.ndarray, fs: float, contrast: np.ndarray, th: QualityThresholds
                 ) -> tuple[list[list[str]], dict[str, np.ndarray]]:
    measures = {"std_mv": x.std(axis=-1), "constant_fraction": _constant_fraction(x, fs, th.constant_run_s),
                "clip_fraction": _clip_fraction(x), "qrs_contrast": contrast}
    measures.update(_band_ratios(x - x.mean(axis=-1, keepdims=True), fs))
    issues: list[list[str]] = []
    for i in range(x.shape[0]):
        m = {key: float(values[i]) for key, values in measures.items()}
        codes = []
        if m["std_mv"] < th.flat_std_mv:
            codes.append("flat")
        elif m["constant_fraction"] >= th.lead_off_fraction:
            codes.append("lead_off")
        else:
            if m["hf_ratio"] > th.noise_hf_ratio or (
                    m["qrs_contrast"] < th.noise_min_contrast and m["hf_ratio"] > th.noise_hf_floor):
                codes.append("noise")
            if m["clip_fraction"] > th.clip_fraction:
                codes.append("clipping")
            if m["powerline_ratio"] > th.powerline_ratio:
                codes.append("powerline")
            if m["wander_ratio"] > th.wander_ratio:
                codes.append("baseline_wander")
        issues.append(codes)
    return issues, measures


def ecg_quality(sig: np.ndarray, fs: float, leads: Sequence[str],
                peaks: tuple[np.ndarray, dict[str, Any]] | None = None, cleaned: np.ndarray | None = None,
                thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> QualityReport:
    """Check the quality of each lead and of the record.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)``, raw (uncleaned) millivolts.
    fs : float
        Sampling rate in Hz.
    leads : sequence of str
        Lead names, one per row of ``sig`` (normalised names such as ``"I"``, ``"aVR"``).
    peaks : tuple, optional
        What :func:`~cardioscreen.signal.peaks.ecg_peaks` returned for this signal (raw or cleaned, all rows),
        to avoid running the detector twice; it is run here when omitted.
    cleaned : np.ndarray, optional
        ``sig`` after :func:`~cardioscreen.signal.clean.ecg_clean` (same shape), to avoid cleaning it again for
        the limb-lead check; the leads that check needs are cleaned here when omitted.
    thresholds : QualityThresholds
        Limits of the checks.

    Returns
    -------
    QualityReport
    """
    x = np.atleast_2d(np.asarray(sig, dtype=np.float64))
    names = tuple(leads)
    if x.ndim != 2 or len(names) != x.shape[0]:
        raise CardioScreenError(f"{len(names)} lead names for a signal of shape {np.shape(sig)}")
    if not fs > 0:
        raise CardioScreenError(f"sampling rate must be positive, got {fs}")
    r_peaks, info = ecg_peaks(x, fs) if peaks is None else peaks
    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    contrast = np.asarray(info["contrast"], dtype=np.float64)
    if contrast.shape != (x.shape[0],):
        raise CardioScreenError("peaks were found on a different number of leads than the signal has")
    issues, measures = _lead_issues(x, float(fs), contrast, thresholds)
    usable = [i for i, codes in enumerate(issues) if not LEAD_UNUSABLE.intersection(codes)]
    reasons = []
    rate = float(60.0 * fs / np.mean(np.diff(r_peaks))) if usable and len(r_peaks) >= 2 else None
    usable_names = tuple(names[i] for i in usable)
    cleaned_usable = None if cleaned is None else np.asarray(cleaned)[usable]
    if rate is not None and _limb_reversal(x[usable], float(fs), usable_names, r_peaks, cleaned_usable):
        for name in ("I", "aVR", "aVL"):
            issues[names.index(name)].append("limb_reversal")
    for code, text in ISSUES.items():
        hit = [names[i] for i, codes in enumerate(issues) if code in codes]
        if hit:
            reasons.append(f"{text}: {', '.join(hit)}")
    unusable = not usable or len(usable) < x.shape[0] / 2
    if not usable:
        reasons.insert(0, "no lead carries a usable ECG")
    elif len(usable) < x.shape[0] / 2:
        reasons.insert(0, f"only {len(usable)} of {x.shape[0]} leads are usable")
    if usable and rate is None:
        unusable = True
        reasons.insert(0, "no heartbeats found" if len(r_peaks) == 0
                       else "only one heartbeat found (the rate needs at least two)")
    elif rate is not None and not thresholds.min_rate_bpm <= rate <= thresholds.max_rate_bpm:
        reasons.append(f"implausible heart rate {rate:.0f} bpm")
    verdict = "unusable" if unusable else ("warn" if reasons else "usable")
    logger.debug("quality %s: %s", verdict, "; ".join(reasons))
    return QualityReport(
        verdict=verdict,
        reasons=tuple(reasons),
        per_lead={names[i]: tuple(codes) for i, codes in enumerate(issues)},
        usable_leads=usable_names,
        measures={names[i]: {key: round(float(values[i]), 5) for key, values in measures.items()}
                  for i in range(len(names))},
        heart_rate_bpm=None if rate is None else round(rate, 1),
    )
