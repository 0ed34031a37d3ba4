"""``ecg_rhythm``: the rhythm of a record of any lead set and length, from measurement rules and the classifier.

The record's beats are measured once (:func:`~cardioscreen.rhythm.beats.beat_table`); each 10 s window (one for a
short record, every 5 s for a long one) gets a rhythm from the rules (:mod:`cardioscreen.rhythm.rules`) and from
the classifier (:mod:`cardioscreen.rhythm.learned`), combined by :func:`combine`; consecutive windows with one
rhythm are merged into episodes, and the rhythm covering most of the record is its rhythm.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.rhythm.beats import BeatTable, beat_table
from cardioscreen.rhythm.ectopy import count_ectopy
from cardioscreen.rhythm.episodes import merge_episodes, smooth_labels, windows
from cardioscreen.rhythm.features import window_features
from cardioscreen.rhythm.learned import RhythmModel, default_model
from cardioscreen.rhythm.result import Ectopy, RhythmResult
from cardioscreen.rhythm.rules import RhythmLimits, as_mapping, evidence, measure_rhythm
from cardioscreen.rhythm.texts import check_lang, phrase
from cardioscreen.signal.delineate import Delineation, ecg_delineate
from cardioscreen.signal.delineation.fiducials import median
from cardioscreen.signal.peaks import ecg_peaks

logger = logging.getLogger(__name__)

__all__ = ["MODEL_CONFIDENT", "WindowCall", "combine", "ecg_rhythm", "record_beats"]

MODEL_CONFIDENT = 0.6
"""Where rules and classifier name different mechanisms, the classifier's rhythm is taken when its probability
is at least this; otherwise the rules'."""
AF_SUPPORT = 0.3
"""The rules' atrial fibrillation stands against a classifier naming another rhythm only where the classifier
gives AF or flutter at least this probability (irregular RR without consistent P waves is also what frequent
ectopic beats on a few leads look like to the rules: MIT-BIH 201's sinus stretches with trigeminy)."""
DISORGANISED = frozenset({"AFIB", "AFLT"})
"""Rhythms without organised atrial beats: premature beats are not counted in them."""
SINUS = frozenset({"SR", "SBRAD", "STACH", "SARRH"})
RATE_CODES = ("SBRAD", "STACH")
"""Sinus rhythms the measured rate names (the rules' call stands where the classifier also says sinus)."""


@dataclass(frozen=True)
class WindowCall:
    """The rhythm of one window: the rules', the classifier's and the combined call."""

    code: str
    source: str
    measurement_code: str
    model_code: str
    probabilities: dict[str, float]
    pacing: str | None


def _group(code: str) -> str:
    return "sinus" if code in SINUS else code


def combine(rule_code: str, probabilities: dict[str, float]) -> tuple[str, str]:
    """One rhythm from the rules' code and the classifier's probabilities.

    Agreement gives ``"both"``. Pacing spikes (``PACE`` by the rules) always stand. Where both say sinus but
    not the same one, the rules' code stands when it is named by the measured rate (bradycardia,
    tachycardia), the classifier's otherwise (sinus rhythm or sinus arrhythmia). Where they name different
    mechanisms, the classifier wins at a probability of at least :data:`MODEL_CONFIDENT`, and against the rules'
    atrial fibrillation also where it gives AF and flutter together less than :data:`AF_SUPPORT`.

    Returns
    -------
    code, source : str
    """
    model_code = max(probabilities, key=probabilities.__getitem__)
    if rule_code == model_code:
        return rule_code, "both"
    if rule_code == "PACE":
        return rule_code, "measurement"
    if _group(rule_code) == _group(model_code):
        return (rule_code, "measurement") if rule_code in RATE_CODES else (model_code, "model")
    if probabilities[model_code] >= MODEL_CONFIDENT:
        return model_code, "model"
    if rule_code == "AFIB" and sum(probabilities.get(c, 0.0) for c in DISORGANISED) < AF_SUPPORT:
        return model_code, "model"
    return rule_code, "measurement"


def record_beats(
    signal: np.ndarray,
    fs: float,
    leads: Sequence[str],
    *,
    r_peaks: np.ndarray | None = None,
    delineation: Delineation | None = None,
    raw: np.ndarray | None = None,
) -> BeatTable:
    """The beat table of a record: R-peaks and delineation found where not given (see :func:`ecg_rhythm`)."""
    x = np.atleast_2d(np.asarray(signal, dtype=float))
    if len(tuple(leads)) != x.shape[0]:
        raise CardioScreenError(f"{len(tuple(leads))} lead names for a signal of shape {x.shape}")
    if not fs > 0:
        raise CardioScreenError(f"sampling rate must be positive, got {fs!r}")
    if delineation is None:
        r = ecg_peaks(x, fs)[0] if r_peaks is None else np.asarray(r_peaks, dtype=np.int64)
        method = "hybrid" if tuple(leads) == STANDARD_LEADS else "dsp"
        delineation = ecg_delineate(x, fs, r, method)
    return beat_table(x, fs, delineation, raw=raw)


def _window_call(values: np.ndarray, model: RhythmModel, lim: RhythmLimits) -> WindowCall:
    rule = measure_rhythm(values, limits=lim)
    probs = dict(zip(model.classes, (float(p) for p in model.predict_proba(values[None, :])[0]), strict=True))
    too_few = not as_mapping(values)["n_beats"] >= lim.min_beats
    code, source = (rule.code, "measurement") if too_few else combine(rule.code, probs)
    return WindowCall(code=code, source=source, measurement_code=rule.code,
                      model_code=max(probs, key=probs.__getitem__), probabilities=probs, pacing=rule.pacing)


def ecg_rhythm(
    signal: np.ndarray,
    fs: float,
    leads: Sequence[str],
    *,
    r_peaks: np.ndarray | None = None,
    delineation: Delineation | None = None,
    lang: str = "en",
    raw: np.ndarray | None = None,
    model: RhythmModel | None = None,
    limits: RhythmLimits | None = None,
) -> RhythmResult:
    """The rhythm of a record, its episodes and its premature beats.

    Parameters
    ----------
    signal : np.ndarray
        ``(leads, samples)`` cleaned signal in mV (any lead set: 1, 2, 8 or 12 leads; any length).
    fs : float
        Sampling rate in Hz.
    leads : sequence of str
        Lead names, one per row of ``signal``.
    r_peaks : np.ndarray, optional
        R-peak sample indices if already found (else :func:`cardioscreen.signal.peaks.ecg_peaks` finds them).
    delineation : Delineation, optional
        Of this record, if already made (else it is made here: ``"hybrid"`` for the 12 standard leads in
        order, ``"dsp"`` otherwise).
    lang : str
        ``"en"`` or ``"ru"``: language of the name and the evidence.
    raw : np.ndarray, optional
        The record before cleaning, same shape: pacing spikes are searched in it (the cleaning's low-pass
        removes them). Without it only spikes left in ``signal`` are seen.
    model : RhythmModel, optional
        The classifier; the shipped one by default.
    limits : RhythmLimits, optional
        Limits of the measurement rules.

    Returns
    -------
    RhythmResult
    """
    lang = check_lang(lang)
    lim = limits or RhythmLimits()
    model = model or default_model()
    x = np.atleast_2d(np.asarray(signal, dtype=float))
    table = record_beats(x, fs, leads, r_peaks=r_peaks, delineation=delineation, raw=raw)
    n = x.shape[-1]
    bounds = windows(n, fs)
    stretches = [table.between(a, b) for a, b in bounds]
    values = [window_features(table, beats) for beats in stretches]
    calls = [_window_call(v, model, lim) for v in values]
    labels = smooth_labels([c.code for c in calls])
    episodes = merge_episodes(labels, bounds, fs, n)
    durations: dict[str, float] = {}
    for e in episodes:
        durations[e.code] = durations.get(e.code, 0.0) + e.end_s - e.start_s
    code = max(durations, key=durations.__getitem__)
    chosen = [c for c, label in zip(calls, labels, strict=True) if label == code]
    longest = max((e for e in episodes if e.code == code), key=lambda e: e.end_s - e.start_s)
    organised = np.ones(table.n_beats, dtype=bool)
    for e in episodes:
        if e.code in DISORGANISED:
            organised[table.between(round(e.start_s * fs), round(e.end_s * fs))] = False
    ectopy = count_ectopy(table, organised) if table.n_beats >= lim.min_beats else Ectopy()
    pacing = Counter(c.pacing for c in chosen).most_common(1)[0][0] if code == "PACE" else None
    probabilities = {k: float(np.mean([c.probabilities[k] for c in chosen])) for k in model.classes}
    model_code = max(probabilities, key=probabilities.__getitem__)
    in_stretch = table.between(round(longest.start_s * fs), round(longest.end_s * fs))
    stretch_hr = 60.0 * fs / float(median(np.diff(table.r[in_stretch]), axis=0)) if in_stretch.size >= 2 else None
    # the longest episode is often one whole window (a 10 s record has one): its features are made already
    stretch_values = next((v for beats, v in zip(stretches, values, strict=True) if np.array_equal(beats, in_stretch)),
                          None)
    if stretch_values is None:
        stretch_values = window_features(table, in_stretch)
    parts = list(evidence(as_mapping(stretch_values), code, pacing, lang, lim, stretch_hr))
    if table.n_beats >= lim.min_beats:
        parts.append(phrase("model", lang, code=model_code, prob=100.0 * probabilities[model_code]))
        if ectopy.pvc or ectopy.pac:
            parts.append(phrase("ectopy", lang, pvc=ectopy.pvc, pac=ectopy.pac, beats=table.n_beats))
    rr = np.diff(table.r)
    return RhythmResult(
        code=code,
        heart_rate_bpm=float(60.0 * fs / median(rr, axis=0)) if rr.size else None,
        episodes=episodes,
        ectopy=ectopy,
        evidence="; ".join(parts),
        source=Counter(c.source for c in chosen).most_common(1)[0][0],
        pacing=pacing,
        measurement_code=Counter(c.measurement_code for c in chosen).most_common(1)[0][0],
        model_code=model_code,
        probabilities=probabilities,
        n_beats=table.n_beats,
        duration_s=n / fs,
        lang=lang,
    )
