"""Zero-phase band-pass filtering with the filter designs cached per sampling rate, and recent results reused.

Designing a Butterworth filter and its initial conditions costs about as much as running it on a 10 s, 12-lead
record, and every record of a batch shares the same few designs; :func:`bandpass` designs each once. The
analysis of one record band-passes the same signal with the same band more than once (the delineator's QRS
stage and the intervals' beat templates both use 0.5-40 Hz), so the last few results are kept (per thread) with
a copy of their input and returned, read-only, when the same band is asked of an equal signal.
"""

from __future__ import annotations

import threading
from collections import deque
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import signal as sps

RECENT = 4
"""Results kept for reuse per thread."""
RECENT_MAX_SIZE = 1_000_000
"""Larger signals (values; 12 leads x 83 s at 1 kHz) are not kept: a long Holter record would pin too much memory."""
_recent = threading.local()


@lru_cache(maxsize=32)
def _design(fs: float, low: float, high: float, order: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Second-order sections, their steady-state initial conditions ``(sections, 2)`` and the edge padding."""
    sos = sps.butter(order, [low, high], btype="band", fs=fs, output="sos")
    ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    zi = sps.sosfilt_zi(sos)
    zi.setflags(write=False)
    return sos, zi, 3 * ntaps


def bandpass(x: np.ndarray, fs: float, low: float, high: float, order: int = 2) -> np.ndarray:
    """Butterworth band-pass along the last axis, forward and backward (``scipy.signal.sosfiltfilt``'s result).

    Parameters
    ----------
    x : np.ndarray
        Shape ``(..., samples)``; more than ``3 * (2 * order + 1)`` samples.
    fs : float
        Sampling rate in Hz.
    low, high : float
        Band edges in Hz (``high`` below ``fs / 2``).
    order : int
        Butterworth order (doubled by the two passes).

    Returns
    -------
    np.ndarray
        Same shape as ``x``, float64, read-only (it may be handed to a later call on an equal signal).
    """
    x = np.asarray(x, dtype=float)
    key = (float(fs), float(low), float(high), int(order), x.shape)
    recent: deque[tuple[tuple[Any, ...], np.ndarray, np.ndarray]] = _recent.__dict__.setdefault(
        "results", deque(maxlen=RECENT))
    for seen_key, seen_x, seen_y in recent:
        if seen_key == key and np.array_equal(seen_x, x):
            return seen_y
    y = _filtfilt(x, *_design(*key[:4]))
    y.setflags(write=False)
    if x.size <= RECENT_MAX_SIZE:
        recent.append((key, x.copy(), y))
    return y


def _filtfilt(x: np.ndarray, sos: np.ndarray, zi: np.ndarray, edge: int) -> np.ndarray:
    """``scipy.signal.sosfiltfilt(sos, x, axis=-1)`` (odd extension by ``edge``) with precomputed ``zi``."""
    if x.shape[-1] <= edge:
        return np.asarray(sps.sosfiltfilt(sos, x, axis=-1))
    ext = np.concatenate(
        [2 * x[..., :1] - x[..., edge:0:-1], x, 2 * x[..., -1:] - x[..., -2 : -edge - 2 : -1]], axis=-1
    )
    state = zi.reshape((len(sos),) + (1,) * (x.ndim - 1) + (2,))
    y, _ = sps.sosfilt(sos, ext, axis=-1, zi=state * ext[None, ..., :1])
    y, _ = sps.sosfilt(sos, y[..., ::-1], axis=-1, zi=state * y[None, ..., -1:])
    return np.ascontiguousarray(y[..., ::-1][..., edge:-edge])
