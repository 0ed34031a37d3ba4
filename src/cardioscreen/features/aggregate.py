"""Record-level feature vector for the boosting stage: per-beat statistics averaged over beats, plus rhythm."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cardioscreen.features.rhythm import rhythm_features
from cardioscreen.features.time_freq import feature_names, lead_statistics


def record_features(
    beats: np.ndarray, beat_fs: float, leads: Sequence[str], r_peaks: np.ndarray, fs: float
) -> tuple[np.ndarray, list[str]]:
    """One feature vector per record.

    Parameters
    ----------
    beats : np.ndarray
        Shape ``(n_beats, n_leads, n_samples)``, mV; at least one beat.
    beat_fs : float
        Sampling rate of the beat samples in Hz (nominal for length-normalised beats).
    leads : sequence of str
        Lead names, one per beat row.
    r_peaks : np.ndarray
        R-peak sample indices of the record, at rate ``fs``.
    fs : float
        Sampling rate of the record (of ``r_peaks``) in Hz.

    Returns
    -------
    values : np.ndarray
        Shape ``(n_leads * 22 + 8,)``, float64: the mean over beats of each per-lead statistic of
        :func:`~cardioscreen.features.time_freq.extract_features`, then
        :func:`~cardioscreen.features.rhythm.rhythm_features` (NaN where undefined).
    names : list of str
        Column names, the per-lead ones as ``"<lead>_<statistic>"``.
    """
    stats = lead_statistics(beats, beat_fs)
    if stats.shape[0] == 0:
        raise ValueError("record_features needs at least one beat")
    if len(leads) != stats.shape[1]:
        raise ValueError(f"{len(leads)} lead names for {stats.shape[1]} leads")
    rhythm, rhythm_names = rhythm_features(r_peaks, fs)
    values = np.concatenate([stats.mean(axis=0).ravel(), rhythm])
    return values, feature_names(leads) + rhythm_names
