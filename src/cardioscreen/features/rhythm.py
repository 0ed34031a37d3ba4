"""Rhythm features from R-peak positions: RR statistics, heart rate and short-term variability."""

from __future__ import annotations

import numpy as np

RHYTHM_FEATURES: tuple[str, ...] = (
    "hr_mean_bpm", "rr_mean_ms", "rr_min_ms", "rr_max_ms", "sdnn_ms", "rmssd_ms", "pnn50", "rr_cv",
)
"""Names of the rhythm features, in column order."""


def rhythm_features(r_peaks: np.ndarray, fs: float) -> tuple[np.ndarray, list[str]]:
    """RR-interval statistics of one record.

    Parameters
    ----------
    r_peaks : np.ndarray
        R-peak sample indices, shape ``(n_peaks,)``, at rate ``fs``.
    fs : float
        Sampling rate of the indices in Hz.

    Returns
    -------
    values : np.ndarray
        Shape ``(8,)``, float64, in :data:`RHYTHM_FEATURES` order:

        - ``hr_mean_bpm``: 60000 / ``rr_mean_ms``
        - ``rr_mean_ms``, ``rr_min_ms``, ``rr_max_ms``: of the RR intervals (ms)
        - ``sdnn_ms``: sample standard deviation of RR (ddof 1)
        - ``rmssd_ms``: root mean square of successive RR differences
        - ``pnn50``: fraction (0-1) of successive RR differences larger than 50 ms
        - ``rr_cv``: ``sdnn_ms / rr_mean_ms``

        A feature that needs more intervals than the record has is NaN (2 peaks give one RR:
        no SDNN, RMSSD or pNN50; fewer than 2 peaks give all NaN).
    names : list of str
        :data:`RHYTHM_FEATURES`.
    """
    if not fs > 0:
        raise ValueError(f"fs must be positive, got {fs!r}")
    peaks = np.sort(np.asarray(r_peaks, dtype=np.float64).ravel())
    values = np.full(len(RHYTHM_FEATURES), np.nan)
    rr = np.diff(peaks) * 1000.0 / fs
    if rr.size >= 1:
        rr_mean = rr.mean()
        values[:4] = 60000.0 / rr_mean, rr_mean, rr.min(), rr.max()
    if rr.size >= 2:
        sdnn = rr.std(ddof=1)
        successive = np.diff(rr)
        values[4:] = sdnn, np.sqrt(np.mean(successive**2)), np.mean(np.abs(successive) > 50.0), sdnn / rr_mean
    return values, list(RHYTHM_FEATURES)
