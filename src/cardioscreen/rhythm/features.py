"""Rhythm features of a stretch of beats: RR statistics, irregularity, P-wave presence and consistency, PR
stability, QRS width and shape, pacing spikes.

The RR statistics are those of :func:`cardioscreen.features.rhythm.rhythm_features`; the others summarise the
per-beat measurements of a :class:`~cardioscreen.rhythm.beats.BeatTable`. The same vector feeds the measurement
rules (:mod:`cardioscreen.rhythm.rules`) and the learned classifier (:mod:`cardioscreen.rhythm.learned`).
"""

from __future__ import annotations

import numpy as np

from cardioscreen.features.rhythm import RHYTHM_FEATURES, rhythm_features
from cardioscreen.rhythm.beats import BeatTable
from cardioscreen.signal.delineation.fiducials import median

__all__ = ["FEATURE_NAMES", "window_features"]

ECTOPIC_CORR = 0.9
"""A QRS whose correlation with the dominant QRS is below this has another shape."""

EXTRA_FEATURES: tuple[str, ...] = (
    "n_beats", "rr_irregularity", "rr_range_clean_ms", "rr_cv_clean", "premature_frac", "p_found_frac",
    "p_corr", "pr_ms", "pr_sd_ms", "qrs_ms", "qrs_other_frac", "v_spike_frac", "a_spike_frac",
)
FEATURE_NAMES: tuple[str, ...] = RHYTHM_FEATURES + EXTRA_FEATURES
"""Column order of :func:`window_features`."""


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(median(finite, axis=0)) if finite.size else float("nan")


def window_features(table: BeatTable, beats: np.ndarray) -> np.ndarray:
    """Rhythm features of the beats ``beats`` of ``table`` (consecutive indices).

    Parameters
    ----------
    table : BeatTable
        Per-beat measurements of the record.
    beats : np.ndarray
        Indices into ``table`` of the stretch's beats, increasing and consecutive.

    Returns
    -------
    np.ndarray
        ``(len(FEATURE_NAMES),)`` float64 in :data:`FEATURE_NAMES` order (NaN where the stretch has too few
        beats): the RR statistics of :data:`~cardioscreen.features.rhythm.RHYTHM_FEATURES`, then

        - ``n_beats``; ``rr_irregularity``: median absolute successive RR difference / median RR
        - ``rr_range_clean_ms``, ``rr_cv_clean``: range and coefficient of variation of the RR intervals that
          neither end at nor follow a premature beat (sinus arrhythmia without the ectopy)
        - ``premature_frac``: fraction of premature beats (:attr:`BeatTable.premature`)
        - ``p_found_frac``, ``p_corr``: fraction of beats with a P wave, median beat-to-beat P-segment correlation
        - ``pr_ms``, ``pr_sd_ms``: median and standard deviation of PR (ms)

          (these four over the beats that are not premature: a premature atrial beat's P wave differs)
        - ``qrs_ms``: median QRS duration; ``qrs_other_frac``: fraction of QRS unlike the dominant one
        - ``v_spike_frac``, ``a_spike_frac``: fraction of beats after a ventricular / atrial pacing spike
    """
    b = np.asarray(beats, dtype=np.int64)
    rr_stats, _ = rhythm_features(table.r[b], table.fs)
    extra = np.full(len(EXTRA_FEATURES), np.nan)
    extra[0] = b.size
    if b.size >= 1:
        on_time = b[~table.premature[b]] if (~table.premature[b]).any() else b
        pr = table.pr_ms[on_time]
        extra[5:] = (
            table.p_found[on_time].mean(), _median(table.p_corr[on_time]), _median(pr),
            float(np.nanstd(pr)) if np.isfinite(pr).sum() >= 2 else np.nan,
            _median(table.qrs_ms[b]), float(np.mean(table.qrs_corr[b] < ECTOPIC_CORR)),
            table.v_spike[b].mean(), table.a_spike[b].mean(),
        )
    rr = table.rr_prev_ms[b[1:]] if b.size >= 2 else np.zeros(0)
    if rr.size >= 2:
        premature = table.premature[b]
        extra[1] = float(median(np.abs(np.diff(rr)), axis=0) / median(rr, axis=0))
        extra[4] = float(premature[1:].mean())
        after = np.concatenate([[False], premature[:-1]])
        clean = rr[~(premature[1:] | after[1:])]
        if clean.size >= 2:
            extra[2], extra[3] = float(np.ptp(clean)), float(np.std(clean) / np.mean(clean))
    return np.concatenate([rr_stats, extra])
