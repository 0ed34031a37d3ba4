"""Waveform augmentations that imitate other carts and hospitals, applied to normalised training batches.

Each augmentation takes a batch ``(B, leads, samples)`` of model inputs (e.g. the z100 recipe: per-lead z-scored,
100 Hz), the input rate ``fs`` and a NumPy generator, and returns a new batch of the same shape; each record of the
batch is changed with probability ``p`` (the others are returned unchanged). What each imitates:

* ``amplitude``: another gain per lead (electrode placement, body habitus): scale 0.7-1.4 per lead.
* ``baseline``: breathing and movement wander: a 0.05-0.6 Hz sinusoid per lead of up to 0.3 standard deviations.
* ``noise``: amplifier and muscle noise: white noise of 0.01-0.1 standard deviations.
* ``lead_dropout``: a lead off or flat: one to three leads set to zero (the flat line a z-scored empty lead is).
* ``time_scale``: another heart rate and a cart's rate error: the record stretched by 0.9-1.1, cropped or
  edge-padded back to its length.
* ``bandpass``: another cart's filters: a zero-phase Butterworth low-pass at 15-40 Hz (capped below Nyquist) and
  a high-pass at 0.05-1 Hz, each drawn per record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import signal as sps

from cardioscreen.errors import CardioScreenError

Augmentation = Callable[[np.ndarray, float, np.random.Generator], np.ndarray]


def _amplitude(x: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
    return x * rng.uniform(0.7, 1.4, size=x.shape[:-1] + (1,)).astype(x.dtype)


def _baseline(x: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(x.shape[-1]) / fs
    shape = x.shape[:-1] + (1,)
    freq, phase = rng.uniform(0.05, 0.6, size=shape), rng.uniform(0, 2 * np.pi, size=shape)
    return x + (rng.uniform(0, 0.3, size=shape) * np.sin(2 * np.pi * freq * t + phase)).astype(x.dtype)


def _noise(x: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
    level = rng.uniform(0.01, 0.1, size=x.shape[:-2] + (1, 1))
    return x + (level * rng.standard_normal(x.shape)).astype(x.dtype)


def _lead_dropout(x: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
    out = x.copy()
    for row in out:
        row[rng.choice(len(row), size=int(rng.integers(1, 4)), replace=False)] = 0.0
    return out


def _time_scale(x: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
    n = x.shape[-1]
    out = np.empty_like(x)
    grid = np.arange(n, dtype=np.float64)
    for i, row in enumerate(x):
        positions = np.clip(grid / rng.uniform(0.9, 1.1), 0, n - 1)  # > 1 stretches (slower rate)
        lo = np.floor(positions).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        frac = (positions - lo).astype(x.dtype)
        out[i] = row[:, lo] * (1 - frac) + row[:, hi] * frac
    return out


def _bandpass(x: np.ndarray, fs: float, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(x)
    nyquist = fs / 2
    for i, row in enumerate(x):
        low_pass = min(rng.uniform(15.0, 40.0), 0.9 * nyquist)
        high_pass = rng.uniform(0.05, 1.0)
        sos = sps.butter(2, [high_pass, low_pass], btype="band", fs=fs, output="sos")
        out[i] = sps.sosfiltfilt(sos, row, axis=-1)
    return out


AUGMENTATIONS: dict[str, Augmentation] = {
    "amplitude": _amplitude,
    "baseline": _baseline,
    "noise": _noise,
    "lead_dropout": _lead_dropout,
    "time_scale": _time_scale,
    "bandpass": _bandpass,
}
"""Name -> augmentation (see the module docstring for what each imitates)."""


def check_augmentations(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple, each checked to be a key of :data:`AUGMENTATIONS` (``"all"`` stands for every one)."""
    if list(names) == ["all"]:
        return tuple(AUGMENTATIONS)
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise CardioScreenError(f"unknown augmentation(s) {unknown}; choose from {sorted(AUGMENTATIONS)} or 'all'")
    return tuple(names)


def augment_batch(
    x: np.ndarray, fs: float, names: Sequence[str], rng: np.random.Generator, p: float = 0.5
) -> np.ndarray:
    """Apply each augmentation of ``names`` in turn, each to a random ``p`` share of the records of ``x``.

    Parameters
    ----------
    x : np.ndarray
        Batch ``(B, leads, samples)``, float32, of model inputs.
    fs : float
        Sampling rate of ``x`` in Hz.
    names : sequence of str
        Keys of :data:`AUGMENTATIONS`, applied in this order.
    rng : numpy.random.Generator
        Source of all randomness (a seeded generator makes the batch reproducible).
    p : float
        Probability that a record gets each augmentation.

    Returns
    -------
    np.ndarray
        A new batch of the same shape and dtype.
    """
    if not 0 <= p <= 1:
        raise CardioScreenError(f"augmentation probability must lie in [0, 1], got {p}")
    out = np.array(x, copy=True)
    for name in check_augmentations(names):
        chosen = np.flatnonzero(rng.random(len(out)) < p)
        if chosen.size:
            out[chosen] = AUGMENTATIONS[name](out[chosen], fs, rng).astype(out.dtype, copy=False)
    return out
