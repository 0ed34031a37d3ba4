"""Model input normalisation recipes, usable on any record at inference as in training.

``z100`` is exactly how ``../shared/data/ptbxl-z100`` was made from raw 500 Hz PTB-XL records:
``butter(4, [0.5, 40], btype="band", fs=500)`` applied with ``filtfilt`` along time (as
:func:`cardioscreen.signal.zerophase.ba_filtfilt` does it, bit for bit), a per-lead z-score
(mean 0, std 1, ddof 0), then ``resample_poly(x, 1, 5)`` to 100 Hz. A record at another rate is first
resampled to 500 Hz, so raw PTB-XL records, the preprocessed folder and any uploaded file share one model.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np
from scipy import signal as sps

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.zerophase import ba_filtfilt

Z100_BASE_FS = 500.0
"""Rate (Hz) the z100 band-pass runs at."""
Z100_FS = 100.0
"""Output rate (Hz) of the z100 recipe."""
_Z100_BA = sps.butter(4, [0.5, 40.0], btype="band", fs=Z100_BASE_FS)
_Z100_ZI = sps.lfilter_zi(*_Z100_BA)
"""Steady state of the z100 band-pass (what ``filtfilt`` recomputes on every call)."""
_Z100_DOWN = 5
"""Decimation factor from :data:`Z100_BASE_FS` to :data:`Z100_FS`."""
_HALF_LEN = 10 * _Z100_DOWN
"""Half length (samples) of ``resample_poly``'s anti-aliasing filter for ``down`` = 5."""
_Z100_TAPS = sps.firwin(2 * _HALF_LEN + 1, 1.0 / _Z100_DOWN, window=("kaiser", 5.0))[::-1].copy()
"""``resample_poly(x, 1, 5)``'s FIR taps (its default Kaiser-window design), reversed."""


def resample(x: np.ndarray, fs: float, target_fs: float) -> np.ndarray:
    """Polyphase resampling along the last axis from ``fs`` to ``target_fs`` (Hz)."""
    if fs == target_fs:
        return x
    ratio = Fraction(target_fs / fs).limit_denominator(1000)
    return np.asarray(sps.resample_poly(x, ratio.numerator, ratio.denominator, axis=-1))


def z100(x: np.ndarray, fs: float) -> np.ndarray:
    """The ptbxl-z100 recipe.

    Parameters
    ----------
    x : np.ndarray
        Shape ``(..., leads, samples)`` in mV.
    fs : float
        Sampling rate of ``x`` in Hz.

    Returns
    -------
    np.ndarray
        Shape ``(..., leads, samples * 100 / fs)``, float32, per-lead z-scored, at 100 Hz.
    """
    x = resample(np.asarray(x, dtype=np.float64), fs, Z100_BASE_FS)
    b, a = _Z100_BA
    filtered = ba_filtfilt(x, b, a, _Z100_ZI)
    mean = filtered.mean(axis=-1, keepdims=True)
    std = filtered.std(axis=-1, keepdims=True)
    filtered -= mean
    filtered /= np.where(std > 0, std, 1.0)
    return _decimate(filtered).astype(np.float32)


def _decimate(x: np.ndarray) -> np.ndarray:
    """``resample_poly(x, 1, 5, axis=-1)`` as one dot product per output sample over a strided window view.

    Output sample ``i`` is ``sum_k h[k] x[5 i + 50 - k]`` with the 101 taps ``h`` of ``resample_poly``'s
    default design and zeros outside ``x``. Unlike ``resample_poly`` it neither redesigns the filter nor
    allocates more than the zero-padded copy of ``x``, and uses no BLAS threads. Equal to ``resample_poly`` up
    to float64 rounding (summation order).
    """
    n = x.shape[-1]
    n_out = -(-n // _Z100_DOWN)
    rows = x.reshape(-1, n)
    padded = np.pad(rows, [(0, 0), (_HALF_LEN, _Z100_DOWN * (n_out - 1) + _Z100_TAPS.size - _HALF_LEN - n)])
    row_stride, sample_stride = padded.strides
    windows = np.lib.stride_tricks.as_strided(
        padded, shape=(rows.shape[0], n_out, _Z100_TAPS.size),
        strides=(row_stride, _Z100_DOWN * sample_stride, sample_stride), writeable=False,
    )
    return np.einsum("rik,k->ri", windows, _Z100_TAPS).reshape(*x.shape[:-1], n_out)


_RECIPES: dict[str, tuple[Callable[[np.ndarray, float], np.ndarray], float]] = {"z100": (z100, Z100_FS)}


def recipe_fs(name: str) -> float:
    """Output sampling rate (Hz) of the recipe ``name``."""
    return _recipe(name)[1]


def _recipe(name: str) -> tuple[Callable[[np.ndarray, float], np.ndarray], float]:
    if name not in _RECIPES:
        raise CardioScreenError(f"unknown normalisation recipe {name!r}; choose one of {sorted(_RECIPES)}")
    return _RECIPES[name]


def normalise(x: np.ndarray, fs: float, recipe: str) -> np.ndarray:
    """Apply the recipe ``recipe`` to ``x`` of shape ``(..., leads, samples)`` sampled at ``fs`` Hz."""
    return _recipe(recipe)[0](x, fs)


def fit_length(x: np.ndarray, samples: int) -> np.ndarray:
    """Centre-crop or zero-pad the last axis of ``x`` to ``samples``."""
    n = x.shape[-1]
    if n >= samples:
        start = (n - samples) // 2
        return x[..., start : start + samples]
    pad = [(0, 0)] * (x.ndim - 1) + [((samples - n) // 2, samples - n - (samples - n) // 2)]
    return np.pad(x, pad)


def window_starts(n: int, samples: int, stride: int) -> list[int]:
    """Start sample of each window of :func:`windows` over a record of ``n`` samples.

    A record shorter than ``samples`` gives one centred, zero-padded window whose start is negative.
    """
    if n <= samples:
        return [-((samples - n) // 2)]
    starts = list(range(0, n - samples + 1, stride))
    if starts[-1] != n - samples:
        starts.append(n - samples)
    return starts


def windows(x: np.ndarray, samples: int, stride: int) -> np.ndarray:
    """Windows of ``samples`` along the last axis of ``x`` (``(leads, n)``), every ``stride`` samples.

    Returns shape ``(n_windows, leads, samples)``; the last window is aligned with the end of the record, and a
    record shorter than ``samples`` gives one zero-padded window.
    """
    n = x.shape[-1]
    if n <= samples:
        return fit_length(x, samples)[None]
    return np.stack([x[..., s : s + samples] for s in window_starts(n, samples, stride)])
