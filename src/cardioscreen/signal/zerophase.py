"""Forward-backward IIR filtering along the last axis, step by step as SciPy's ``filtfilt`` does it.

Odd extension by ``padlen`` samples on each side, the filter started in its steady state scaled by the first sample
(each pass), the result cut back to the signal: equal to :func:`scipy.signal.filtfilt` with ``padtype="odd"``, bit
for bit (the z100 model input must be made exactly as its training data was). The steady state (``lfilter_zi``, a
linear solve, which SciPy redoes on every call) is the caller's, made once per filter design; the backward pass stops
at the signal's first sample, since its output over the left extension is cut off. Filters whose edges may differ
from SciPy's run in the frequency domain instead (:mod:`cardioscreen.signal.spectral`).
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps


def odd_extension(x: np.ndarray, padlen: int) -> np.ndarray:
    """``x`` ``(..., samples)`` extended by ``padlen`` samples on each side by odd reflection (SciPy's
    ``odd_ext``)."""
    if padlen <= 0:
        return x
    return np.concatenate(
        [2 * x[..., :1] - x[..., padlen:0:-1], x, 2 * x[..., -1:] - x[..., -2 : -(padlen + 2) : -1]], axis=-1)


def ba_filtfilt(x: np.ndarray, b: np.ndarray, a: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """``scipy.signal.filtfilt(b, a, x, axis=-1)`` of ``x`` ``(..., samples)``: SciPy's default padding of
    ``3 * max(len(a), len(b))`` samples; ``zi`` is ``scipy.signal.lfilter_zi(b, a)``."""
    padlen = 3 * max(len(a), len(b))
    if x.shape[-1] <= padlen:
        return np.asarray(sps.filtfilt(b, a, x, axis=-1))  # SciPy's own error for a signal this short
    ext = odd_extension(x, padlen)
    forward, _ = sps.lfilter(b, a, ext, axis=-1, zi=zi * ext[..., :1])
    backward, _ = sps.lfilter(b, a, forward[..., ::-1][..., : padlen + x.shape[-1]], axis=-1,
                              zi=zi * forward[..., -1:])
    return np.asarray(backward[..., padlen:][..., ::-1])
