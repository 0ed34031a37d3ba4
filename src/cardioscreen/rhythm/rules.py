"""The measurement rules: a rhythm named from RR regularity, P waves, pacing spikes, rate and QRS width.

The rules of :data:`RULES` are tried in order and the first that holds names the rhythm; each comes with the
evidence phrases (:mod:`cardioscreen.rhythm.texts`) of the measurements it used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cardioscreen.rhythm.features import FEATURE_NAMES
from cardioscreen.rhythm.texts import PACING_NAMES, phrase

__all__ = ["RhythmLimits", "RuleCall", "measure_rhythm"]


@dataclass(frozen=True)
class RhythmLimits:
    """Limits of the rules (rates in /min, durations in ms, fractions and correlations in 0-1).

    ``irregular``: median absolute successive RR difference over the median RR above which the RR is irregular
    (the limit of :class:`cardioscreen.signal.intervals.IntervalLimits`). A sinus P wave is found before at
    least ``p_found`` of the beats, alike from beat to beat (median correlation at least ``p_corr``) with a
    PR whose standard deviation is at most ``pr_sd_ms``; a junctional rhythm has a P wave before fewer than
    ``p_absent`` of them. ``sarrh_range_ms``: RR range, premature beats left
    out, above which a sinus rhythm is a sinus arrhythmia. ``paced``: fraction of beats after a pacing spike.
    """

    brady_bpm: float = 60.0
    tachy_bpm: float = 100.0
    irregular: float = 0.12
    p_found: float = 0.7
    p_absent: float = 0.3
    p_corr: float = 0.85
    pr_sd_ms: float = 30.0
    sarrh_range_ms: float = 160.0
    paced: float = 0.5
    wide_qrs_ms: float = 120.0
    min_beats: int = 4

    def __post_init__(self) -> None:
        if not 0 < self.brady_bpm < self.tachy_bpm:
            raise ValueError("brady_bpm must lie between 0 and tachy_bpm")
        for name in ("irregular", "p_found", "p_absent", "p_corr", "paced"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in (0, 1]")


@dataclass(frozen=True)
class RuleCall:
    """What the rules say about one stretch: a rhythm code, the paced chambers, and the evidence phrases."""

    code: str
    pacing: str | None
    evidence: tuple[str, ...]


_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
Features = dict[str, float]


def _sinus_p(f: Features, lim: RhythmLimits) -> bool:
    return bool(f["p_found_frac"] >= lim.p_found and f["p_corr"] >= lim.p_corr
                and not f["pr_sd_ms"] > lim.pr_sd_ms)


def _irregular(f: Features, lim: RhythmLimits) -> bool:
    return bool(f["rr_irregularity"] > lim.irregular)


def _sinus_code(f: Features, lim: RhythmLimits) -> str:
    hr = f["hr_mean_bpm"]
    if hr < lim.brady_bpm:
        return "SBRAD"
    if hr > lim.tachy_bpm:
        return "STACH"
    return "SARRH" if f["rr_range_clean_ms"] > lim.sarrh_range_ms else "SR"


def _narrow(f: Features, lim: RhythmLimits) -> bool:
    return not f["qrs_ms"] >= lim.wide_qrs_ms


RULES: tuple[tuple[str, Callable[[Features, RhythmLimits], bool], Callable[[Features, RhythmLimits], str]], ...] = (
    ("too few beats", lambda f, lim: not f["n_beats"] >= lim.min_beats, lambda f, lim: "UNDET"),
    ("pacing spikes", lambda f, lim: max(f["v_spike_frac"], f["a_spike_frac"]) >= lim.paced, lambda f, lim: "PACE"),
    ("sinus P waves", _sinus_p, _sinus_code),
    ("irregular without P", _irregular, lambda f, lim: "AFIB"),
    ("narrow regular tachycardia without P", lambda f, lim: f["hr_mean_bpm"] > lim.tachy_bpm and _narrow(f, lim),
     lambda f, lim: "SVTAC"),
    ("narrow regular rhythm without P", lambda f, lim: f["hr_mean_bpm"] <= lim.tachy_bpm and _narrow(f, lim)
     and f["p_found_frac"] < lim.p_absent, lambda f, lim: "JUNCT"),
    ("otherwise", lambda f, lim: True, lambda f, lim: "UNDET"),
)
"""Ordered rules: (name, test, code) on a feature mapping; the first whose test holds gives the code."""


def _pacing(f: Features, lim: RhythmLimits) -> str | None:
    atrial, ventricular = f["a_spike_frac"] >= lim.paced, f["v_spike_frac"] >= lim.paced
    return {(True, True): "dual", (True, False): "atrial", (False, True): "ventricular"}.get((atrial, ventricular))


def evidence(f: Features, code: str, pacing: str | None, lang: str, lim: RhythmLimits | None = None,
             hr_bpm: float | None = None) -> tuple[str, ...]:
    """Evidence phrases of the measurements behind ``code`` for one stretch, in ``lang``.

    ``hr_bpm``: the rate to state (the stretch's mean-RR rate when omitted).
    """
    lim = lim or RhythmLimits()
    if not f["n_beats"] >= lim.min_beats:
        return (phrase("too_few", lang, beats=int(f["n_beats"]) if np.isfinite(f["n_beats"]) else 0),)
    parts = [phrase("rate", lang, hr=f["hr_mean_bpm"] if hr_bpm is None else hr_bpm)]
    irr = 100.0 * f["rr_irregularity"]
    if np.isfinite(irr):
        parts.append(phrase("rr_irregular" if _irregular(f, lim) else "rr_regular", lang, irr=irr))
    if pacing is not None:
        share = 100.0 * max(f["v_spike_frac"], f["a_spike_frac"])
        parts.append(phrase("spikes", lang, v=share, chambers=PACING_NAMES[pacing][lang]))
    elif _sinus_p(f, lim):
        parts.append(phrase("p_present", lang, p=100.0 * f["p_found_frac"], corr=f["p_corr"], pr=f["pr_ms"]))
    else:
        parts.append(phrase("p_absent", lang, p=100.0 * f["p_found_frac"], corr=np.nan_to_num(f["p_corr"])))
    if code == "SARRH":
        parts.append(phrase("rr_varying", lang, range=f["rr_range_clean_ms"]))
    if f["qrs_ms"] >= lim.wide_qrs_ms:
        parts.append(phrase("qrs_wide", lang, qrs=f["qrs_ms"]))
    return tuple(parts)


def as_mapping(values: np.ndarray) -> Features:
    """A feature vector in :data:`~cardioscreen.rhythm.features.FEATURE_NAMES` order as a name -> value dict."""
    return {name: float(values[i]) for name, i in _F.items()}


def measure_rhythm(values: np.ndarray, lang: str = "en", limits: RhythmLimits | None = None) -> RuleCall:
    """The rhythm the measurement rules name for one stretch's features.

    Parameters
    ----------
    values : np.ndarray
        ``(len(FEATURE_NAMES),)`` from :func:`cardioscreen.rhythm.features.window_features`.
    lang : str
        Language of the evidence phrases.
    limits : RhythmLimits, optional
        The rules' limits.

    Returns
    -------
    RuleCall
    """
    lim = limits or RhythmLimits()
    f = as_mapping(values)
    code = next(rule_code(f, lim) for _, test, rule_code in RULES if test(f, lim))
    pacing = _pacing(f, lim) if code == "PACE" else None
    return RuleCall(code=code, pacing=pacing, evidence=evidence(f, code, pacing, lang, lim))
