"""Zero-phase Butterworth band-pass in the frequency domain: one spectrum per signal, shared by every band and rate.

:func:`bandpass` multiplies the spectrum of a signal by the squared magnitude response ``|H(f)|^2`` of a Butterworth
band-pass, which is what a forward-backward pass (``scipy.signal.sosfiltfilt``) applies in steady state, and
transforms back, at another sampling rate when asked (band-limited resampling: the spectrum is cut or extended
with zeros). The edges are handled like ``sosfiltfilt``'s, by odd reflection, but over ``PAD_S`` on each side
instead of 15 samples, so the result is that of a forward-backward pass that starts far outside the record (the
0.5 Hz high-pass of ``sosfiltfilt``'s default leaves transients up to a second into the record); the straight line
between the extension's two ends is taken away first (the band-pass removes it anyway: ``|H|^2`` has a 4th-order
zero at 0 Hz), so that the circular transform meets no step.

One analysis asks several bands of one signal (the derivative delineator 0.5-40 and 0.5-12 Hz, the U-Net
0.5-40 Hz at 125 Hz, the interval axes 0.5-40 Hz again): the spectra of the last few signals and the bands made
from them are kept per thread, with a copy of their input, and an equal signal gets them back (read-only).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import numpy as np
import scipy.fft as sfft
from scipy import signal as sps

PAD_S = 1.0
"""Odd-reflection extension on each side of the signal (seconds) before the transform."""
RECENT = 2
"""Signals whose spectra are kept for reuse, per thread."""
RECENT_MAX_SIZE = 1_000_000
"""Larger signals (values; 12 leads x 83 s at 1 kHz) are not kept: a long Holter record would pin too much memory."""
_recent = threading.local()


@dataclass(eq=False)
class _Spectrum:
    """The real FFT ``values`` of a signal ``x`` (leads, samples) at ``fs``, reflected by ``pad`` on each side.

    ``pad`` and ``n_fft`` are multiples of ``granule``, so that rates ``fs * p / q`` with ``q`` dividing it map
    both onto whole samples. ``bands`` keeps the results made from it.
    """

    x: np.ndarray
    fs: float
    granule: int
    pad: int
    n_fft: int
    values: np.ndarray
    bands: dict[tuple[float, float, int, float], np.ndarray] = field(default_factory=dict)


@lru_cache(maxsize=32)
def _ratio(fs: float, out_fs: float) -> tuple[int, int]:
    """``out_fs / fs`` as a fraction ``(up, down)`` in lowest terms."""
    frac = Fraction(out_fs / fs).limit_denominator(1000)
    return frac.numerator, frac.denominator


def _make_spectrum(x: np.ndarray, fs: float, granule: int) -> _Spectrum:
    n = x.shape[-1]
    pad = min(round(PAD_S * fs), n - 1) // granule * granule
    x32 = x.astype(np.float32)
    ext = np.concatenate(
        [2 * x32[..., :1] - x32[..., pad:0:-1], x32, 2 * x32[..., -1:] - x32[..., -2 : -pad - 2 : -1]], axis=-1
    )
    length = ext.shape[-1]
    start = ext[..., :1].copy()
    rise = ext[..., -1] - start[..., 0]
    ext -= start
    ext -= np.multiply.outer(rise, np.linspace(0.0, 1.0, length, dtype=np.float32))  # (a broadcast is slow here)
    n_fft = sfft.next_fast_len(-(-length // granule), real=True) * granule
    return _Spectrum(x.copy(), fs, granule, pad, n_fft, sfft.rfft(ext, n=n_fft, axis=-1))


def _spectrum(x: np.ndarray, fs: float, granule: int) -> _Spectrum:
    """The spectrum of ``x``: a recent one of an equal signal (with a fitting granule), else made and kept."""
    recent: deque[_Spectrum] = _recent.__dict__.setdefault("spectra", deque(maxlen=RECENT))
    for seen in recent:
        if seen.fs == fs and seen.granule % granule == 0 and seen.x.shape == x.shape and np.array_equal(seen.x, x):
            return seen
    spec = _make_spectrum(x, fs, granule)
    if x.size <= RECENT_MAX_SIZE:
        recent.append(spec)
    return spec


def clear_recent() -> None:
    """Forget this thread's kept spectra (a benchmark times each method without the others' filtering)."""
    _recent.__dict__.pop("spectra", None)


@lru_cache(maxsize=32)
def _gain(fs: float, n_fft: int, low: float, high: float, order: int) -> np.ndarray:
    """``|H(f)|^2`` of the Butterworth band-pass at the ``n_fft // 2 + 1`` real-FFT frequencies (read-only)."""
    sos = sps.butter(order, [low, high], btype="band", fs=fs, output="sos")
    _, h = sps.sosfreqz(sos, worN=np.fft.rfftfreq(n_fft, 1.0 / fs), fs=fs)
    gain = np.asarray(np.abs(h) ** 2, dtype=np.float32)
    gain.setflags(write=False)
    return gain


def bandpass(
    x: np.ndarray, fs: float, low: float, high: float, order: int = 2, out_fs: float | None = None
) -> np.ndarray:
    """Zero-phase Butterworth band-pass along the last axis (a forward-backward pass, without edge transients).

    Parameters
    ----------
    x : np.ndarray
        Shape ``(..., samples)``, at least 2 samples.
    fs : float
        Sampling rate in Hz.
    low, high : float
        Band edges in Hz (``0 < low < high``, ``high`` below half of ``fs`` and of ``out_fs``).
    order : int
        Butterworth order (doubled by the zero-phase response).
    out_fs : float, optional
        Sampling rate of the result (band-limited resampling); ``fs`` when omitted.

    Returns
    -------
    np.ndarray
        Shape ``(..., ceil(samples * out_fs / fs))``, float32 (the transforms run in single precision, about 1e-7
        of the signal's range, for speed), read-only (it may be handed to a later call on an equal signal).
    """
    x = np.asarray(x, dtype=float)
    out_fs = float(fs if out_fs is None else out_fs)
    if not 0 < low < high < min(fs, out_fs) / 2:
        raise ValueError(f"band {low}-{high} Hz does not fit below half of {min(fs, out_fs)} Hz")
    up, down = _ratio(float(fs), out_fs)
    spec = _spectrum(x, float(fs), down)
    key = (float(low), float(high), int(order), out_fs)
    if key not in spec.bands:
        n_out = spec.n_fft * up // down
        keep = min(n_out // 2 + 1, spec.values.shape[-1])
        gain = _gain(float(fs), spec.n_fft, float(low), float(high), int(order))[:keep] * np.float32(up / down)
        y = sfft.irfft(spec.values[..., :keep] * gain, n=n_out, axis=-1)
        start = spec.pad * up // down
        y = y[..., start : start - (-x.shape[-1] * up // down)]
        y.setflags(write=False)
        spec.bands[key] = y
    return spec.bands[key]
