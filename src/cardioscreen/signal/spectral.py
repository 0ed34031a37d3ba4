"""Zero-phase IIR filtering in the frequency domain: one spectrum per signal, shared by every filter and rate.

:func:`zero_phase` multiplies the spectrum of a signal by the squared magnitude response ``|H(f)|^2`` of a filter
given as second-order sections, which is what a forward-backward pass (``scipy.signal.sosfiltfilt``) applies in
steady state, and transforms back, at another sampling rate when asked (band-limited resampling: the spectrum is
cut or extended with zeros); :func:`bandpass` does it for a Butterworth band-pass. The edges are handled like
``sosfiltfilt``'s, by odd reflection, but over ``PAD_S`` on each side instead of 15 samples, so the result is that of
a forward-backward pass that starts far outside the record (the 0.5 Hz high-pass of ``sosfiltfilt``'s default leaves
transients up to a second into the record); the straight line between the extension's two ends is taken away first
(the filter must stop 0 Hz, and a zero-phase high-pass removes a line anyway: ``|H|^2`` has at least a 2nd-order zero
there), so that the circular transform meets no step.

One analysis asks several filters of one signal (the cleaning 0.5-40 Hz and the diagnostic 0.05-150 Hz, the
derivative delineator 0.5-40 and 0.5-12 Hz, the U-Net 0.5-40 Hz at 125 Hz, the interval axes 0.5-40 Hz again): the
spectra of the last few signals and the results made from them are kept per thread, with a copy of their input, and
an equal signal gets them back (read-only).
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

    A rate ``fs * p / q`` maps ``pad`` and ``n_fft`` onto whole samples where ``q`` divides both (see
    :meth:`serves`). ``bands`` keeps the results made from it, by filter and output rate.
    """

    x: np.ndarray
    fs: float
    pad: int
    n_fft: int
    values: np.ndarray
    bands: dict[tuple[bytes, float], np.ndarray] = field(default_factory=dict)

    def serves(self, x: np.ndarray, fs: float, down: int) -> bool:
        """This is the spectrum of ``x`` at ``fs``, usable for an output rate ``fs * p / down``."""
        return (self.fs == fs and self.pad % down == 0 and self.n_fft % down == 0 and self.x.shape == x.shape
                and np.array_equal(self.x, x))


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
    return _Spectrum(x.copy(), fs, pad, n_fft, sfft.rfft(ext, n=n_fft, axis=-1))


def _spectrum(x: np.ndarray, fs: float, granule: int) -> _Spectrum:
    """The spectrum of ``x``: a recent one of an equal signal that serves rates of this ``granule``, else one made
    (its pad and length multiples of ``granule``) and kept."""
    recent: deque[_Spectrum] = _recent.__dict__.setdefault("spectra", deque(maxlen=RECENT))
    for seen in recent:
        if seen.serves(x, fs, granule):
            return seen
    spec = _make_spectrum(x, fs, granule)
    if x.size <= RECENT_MAX_SIZE:
        recent.append(spec)
    return spec


def clear_recent() -> None:
    """Forget this thread's kept spectra (a benchmark times each method without the others' filtering)."""
    _recent.__dict__.pop("spectra", None)


@lru_cache(maxsize=64)
def _gain(fs: float, n_fft: int, sections: bytes) -> np.ndarray:
    """``|H(f)|^2`` of the second-order ``sections`` (``float64`` bytes of ``(n, 6)``) at the ``n_fft // 2 + 1``
    real-FFT frequencies (read-only)."""
    sos = np.frombuffer(sections).reshape(-1, 6)
    _, h = sps.sosfreqz(sos, worN=np.fft.rfftfreq(n_fft, 1.0 / fs), fs=fs)
    gain = np.asarray(np.abs(h) ** 2, dtype=np.float32)
    if gain[0] > 1e-6:
        raise ValueError("zero_phase needs a filter that stops 0 Hz (a high-pass or band-pass)")
    gain.setflags(write=False)
    return gain


def zero_phase(x: np.ndarray, fs: float, sos: np.ndarray, out_fs: float | None = None) -> np.ndarray:
    """``x`` through the filter ``sos`` forward and backward along the last axis, without edge transients.

    Parameters
    ----------
    x : np.ndarray
        Shape ``(..., samples)``, at least 1 sample.
    fs : float
        Sampling rate in Hz.
    sos : np.ndarray
        Shape ``(n, 6)``: second-order sections of a filter that stops 0 Hz (a high-pass or band-pass, with
        low-passes and notches beside it), at ``fs``.
    out_fs : float, optional
        Sampling rate of the result (band-limited resampling); ``fs`` when omitted. Frequencies above half of it
        are cut.

    Returns
    -------
    np.ndarray
        Shape ``(..., ceil(samples * out_fs / fs))``, float32 (the transforms run in single precision, about 1e-7
        of the signal's range, for speed), read-only (it may be handed to a later call on an equal signal).
    """
    x = np.asarray(x, dtype=float)
    out_fs = float(fs if out_fs is None else out_fs)
    up, down = _ratio(float(fs), out_fs)
    spec = _spectrum(x, float(fs), down)
    sections = np.ascontiguousarray(sos, dtype=np.float64).tobytes()
    key = (sections, out_fs)
    if key not in spec.bands:
        n_out = spec.n_fft * up // down
        keep = min(n_out // 2 + 1, spec.values.shape[-1])
        gain = _gain(float(fs), spec.n_fft, sections)[:keep] * np.float32(up / down)
        with np.errstate(invalid="ignore"):  # a lead with a non-finite sample comes out all NaN, the others as usual
            y = sfft.irfft(spec.values[..., :keep] * gain, n=n_out, axis=-1)
        start = spec.pad * up // down
        y = y[..., start : start - (-x.shape[-1] * up // down)]
        y.setflags(write=False)
        spec.bands[key] = y
    return spec.bands[key]


@lru_cache(maxsize=32)
def _butter_band(fs: float, low: float, high: float, order: int) -> np.ndarray:
    sos = sps.butter(order, [low, high], btype="band", fs=fs, output="sos")
    sos.setflags(write=False)
    return sos


def bandpass(
    x: np.ndarray, fs: float, low: float, high: float, order: int = 2, out_fs: float | None = None
) -> np.ndarray:
    """Zero-phase Butterworth band-pass along the last axis (:func:`zero_phase` of ``butter(order, [low, high])``).

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
        As :func:`zero_phase`.
    """
    out = float(fs if out_fs is None else out_fs)
    if not 0 < low < high < min(fs, out) / 2:
        raise ValueError(f"band {low}-{high} Hz does not fit below half of {min(fs, out)} Hz")
    return zero_phase(x, fs, _butter_band(float(fs), float(low), float(high), int(order)), out_fs)
