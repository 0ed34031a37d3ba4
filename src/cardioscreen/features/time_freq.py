"""Time- and frequency-domain statistics of every lead of every beat, in one vectorised pass.

The 22 statistics are the prototype's set (the usual condition-monitoring features of vibration
analysis), computed here with array operations over ``(beats, leads, samples)`` instead of
per-value Python loops. For one lead of one beat ``x[0..N-1]`` (mV):

Time domain (13)
    ``mean``            mean of x
    ``rms``             sqrt(mean(x**2))
    ``sqrt_amplitude``  (mean(sqrt|x|))**2 (square-root amplitude)
    ``abs_mean``        mean|x|
    ``skewness``        m3 / m2**1.5 with central moments m_k = mean((x - mean)**k) (biased, as scipy.stats.skew)
    ``kurtosis``        m4 / m2**2 - 3 (excess kurtosis, as scipy.stats.kurtosis)
    ``max``, ``min``    extreme values
    ``peak_to_peak``    max - min
    ``variance``        m2 (ddof 0)
    ``waveform_index``  rms / abs_mean (shape factor)
    ``peak_index``      max|x| / rms (crest factor)
    ``impulse_factor``  max|x| / abs_mean

Frequency domain (9), from the one-sided spectrum of ``X = rfft(x)`` with ``K = N // 2 + 1`` bins at
``f_k = k * fs / N`` Hz, weights ``c_k = 1`` for the DC bin (and the Nyquist bin when N is even) and 2
otherwise, amplitude spectrum ``A_k = c_k |X_k| / N`` (a sine of amplitude a mV on bin k gives A_k = a)
and power spectrum ``P_k = c_k |X_k|**2 / N``:

    ``spec_mean``        mean of A over the K bins
    ``spec_variance``    variance of A over the bins (ddof 0)
    ``spec_std``         sqrt(spec_variance)
    ``spec_entropy``     -sum(p log p) / log K with p = P / sum(P): 0 for a pure tone, 1 for a flat spectrum
    ``spec_energy``      sum(P), equal to sum(x**2) by Parseval (mV**2 x samples)
    ``spec_skewness``    skewness of A over the bins (as ``skewness`` above)
    ``spec_kurtosis``    excess kurtosis of A over the bins
    ``spec_shape_mean``  sum(f q) with q = A / sum(A), the spectral centroid in Hz
    ``spec_shape_std``   sqrt(sum((f - spec_shape_mean)**2 q)), the spectral spread in Hz

A statistic whose denominator is zero (a flat lead: zero variance, all-zero samples or spectrum) is 0.
Beats produced by :func:`cardioscreen.signal.beats.ecg_beats` are resampled to a fixed length, so
their ``fs`` is nominal; only ``spec_shape_mean`` and ``spec_shape_std`` depend on it (linearly).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import xlogy

TIME_FEATURES: tuple[str, ...] = (
    "mean", "rms", "sqrt_amplitude", "abs_mean", "skewness", "kurtosis", "max", "min",
    "peak_to_peak", "variance", "waveform_index", "peak_index", "impulse_factor",
)
"""Names of the 13 time-domain statistics, in column order."""

FREQ_FEATURES: tuple[str, ...] = (
    "spec_mean", "spec_variance", "spec_std", "spec_entropy", "spec_energy",
    "spec_skewness", "spec_kurtosis", "spec_shape_mean", "spec_shape_std",
)
"""Names of the 9 frequency-domain statistics, in column order."""

LEAD_FEATURES: tuple[str, ...] = TIME_FEATURES + FREQ_FEATURES
"""All 22 per-lead statistics, in the order of each lead's block of columns."""


def feature_names(leads: Sequence[str]) -> list[str]:
    """Column names ``"<lead>_<statistic>"``, lead-major (all 22 statistics of the first lead first)."""
    return [f"{lead}_{stat}" for lead in leads for stat in LEAD_FEATURES]


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0."""
    positive = den > 0
    return np.where(positive, num / np.where(positive, den, 1.0), 0.0)


def _shape_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance (ddof 0), skewness and excess kurtosis along the last axis."""
    n = x.shape[-1]
    mean = x.mean(axis=-1)
    centred = x - mean[..., None]
    sq = centred * centred
    m2 = sq.mean(axis=-1)
    m3 = np.einsum("...i,...i->...", sq, centred) / n
    m4 = np.einsum("...i,...i->...", sq, sq) / n
    skew = _safe_div(m3, m2**1.5)
    kurt = np.where(m2 > 0, _safe_div(m4, m2 * m2) - 3.0, 0.0)
    return mean, m2, skew, kurt


def _time_features(x: np.ndarray) -> list[np.ndarray]:
    mean, var, skew, kurt = _shape_moments(x)
    absx = np.abs(x)
    rms = np.sqrt(np.einsum("...i,...i->...", x, x) / x.shape[-1])
    abs_mean = absx.mean(axis=-1)
    sqrt_amplitude = np.sqrt(absx).mean(axis=-1) ** 2
    xmax, xmin = x.max(axis=-1), x.min(axis=-1)
    peak = np.maximum(xmax, -xmin)
    return [
        mean, rms, sqrt_amplitude, abs_mean, skew, kurt, xmax, xmin, xmax - xmin, var,
        _safe_div(rms, abs_mean), _safe_div(peak, rms), _safe_div(peak, abs_mean),
    ]


def _one_sided_weights(n: int) -> np.ndarray:
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return weights


def _freq_features(x: np.ndarray, fs: float) -> list[np.ndarray]:
    n = x.shape[-1]
    weights = _one_sided_weights(n)
    magnitude = np.abs(np.fft.rfft(x, axis=-1))
    amplitude = weights * magnitude / n
    power = weights * magnitude * magnitude / n
    spec_mean, spec_var, spec_skew, spec_kurt = _shape_moments(amplitude)

    energy = power.sum(axis=-1)
    p = power / np.where(energy > 0, energy, 1.0)[..., None]
    n_bins = amplitude.shape[-1]
    entropy = -xlogy(p, p).sum(axis=-1) / np.log(n_bins)

    freqs = np.fft.rfftfreq(n, d=1.0 / fs)
    total = amplitude.sum(axis=-1)
    centroid = _safe_div(amplitude @ freqs, total)
    # E[f^2] - E[f]^2 under q; rounding can make it a hair negative for a pure tone.
    spread_sq = np.maximum(_safe_div(amplitude @ (freqs * freqs), total) - centroid * centroid, 0.0)
    return [
        spec_mean, spec_var, np.sqrt(spec_var), entropy, energy, spec_skew, spec_kurt,
        centroid, np.sqrt(spread_sq),
    ]


def lead_statistics(beats: np.ndarray, fs: float) -> np.ndarray:
    """The 22 statistics of every lead of every beat.

    Parameters
    ----------
    beats : np.ndarray
        Shape ``(n_beats, n_leads, n_samples)``, mV.
    fs : float
        Sampling rate of the beat samples in Hz (nominal for length-normalised beats).

    Returns
    -------
    np.ndarray
        Shape ``(n_beats, n_leads, 22)``, float64, statistics in :data:`LEAD_FEATURES` order.
    """
    x = np.asarray(beats, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"beats must be shaped (n_beats, n_leads, n_samples), got {x.shape}")
    if x.shape[-1] < 2:
        raise ValueError(f"beats need at least 2 samples each, got {x.shape[-1]}")
    if not fs > 0:
        raise ValueError(f"fs must be positive, got {fs!r}")
    return np.stack(_time_features(x) + _freq_features(x, float(fs)), axis=-1)


def extract_features(beats: np.ndarray, fs: float, leads: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Per-beat feature matrix with named columns.

    Parameters
    ----------
    beats : np.ndarray
        Shape ``(n_beats, n_leads, n_samples)``, mV (as from ``ecg_beats``).
    fs : float
        Sampling rate of the beat samples in Hz.
    leads : sequence of str
        One name per lead, used in the column names.

    Returns
    -------
    values : np.ndarray
        Shape ``(n_beats, n_leads * 22)``, float64.
    names : list of str
        ``"<lead>_<statistic>"`` for each column, e.g. ``"V1_kurtosis"``, ``"II_spec_entropy"``.
    """
    stats = lead_statistics(beats, fs)
    if len(leads) != stats.shape[1]:
        raise ValueError(f"{len(leads)} lead names for {stats.shape[1]} leads")
    return stats.reshape(stats.shape[0], -1), feature_names(leads)
