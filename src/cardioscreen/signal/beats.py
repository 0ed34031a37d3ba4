"""Beat segmentation: one fixed-length array per heartbeat, all beats cut and resampled in one gather.

``"midpoint"`` is the prototype's segmentation: a beat runs from the midpoint between its R-peak and the one
before to the midpoint between its R-peak and the one after (the first beat from the record start, the last
to its end), and every beat is resampled to the same number of samples whatever its RR intervals.
``"window"`` cuts a fixed window around each R-peak instead (beats whose window leaves the record are dropped).
Resampling is linear interpolation at ``length / n_samples`` spacing, i.e. the beat's time span is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError

logger = logging.getLogger(__name__)

__all__ = ["ecg_beats", "beat_modes"]

Bounds = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Start and stop sample of each beat (``[start, stop)``) and the mask of R-peaks kept."""


def _midpoint_bounds(r_peaks: np.ndarray, n: int, fs: float, pre_s: float, post_s: float) -> Bounds:
    if len(r_peaks) == 0:
        return r_peaks, r_peaks, np.zeros(0, dtype=bool)
    mids = (r_peaks[:-1] + r_peaks[1:] + 1) // 2
    starts = np.concatenate([[0], mids])
    stops = np.concatenate([mids, [n]])
    return starts, stops, np.ones(len(r_peaks), dtype=bool)


def _window_bounds(r_peaks: np.ndarray, n: int, fs: float, pre_s: float, post_s: float) -> Bounds:
    pre, post = int(round(pre_s * fs)), int(round(post_s * fs))
    keep = (r_peaks - pre >= 0) & (r_peaks + post <= n)
    return r_peaks[keep] - pre, r_peaks[keep] + post, keep


_MODES: dict[str, Callable[[np.ndarray, int, float, float, float], Bounds]] = {
    "midpoint": _midpoint_bounds,
    "window": _window_bounds,
}


def beat_modes() -> tuple[str, ...]:
    """Names accepted by :func:`ecg_beats`'s ``mode``."""
    return tuple(_MODES)


def ecg_beats(sig: np.ndarray, fs: float, r_peaks: np.ndarray, n_samples: int = 500, mode: str = "midpoint",
              pre_s: float = 0.25, post_s: float = 0.45) -> tuple[np.ndarray, dict[str, Any]]:
    """Cut a record into beats and resample each to ``n_samples``.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)``, millivolts (usually cleaned).
    fs : float
        Sampling rate in Hz.
    r_peaks : np.ndarray
        R-peak sample indices (sorted, unique, inside the record), e.g. from
        :func:`~cardioscreen.signal.peaks.ecg_peaks`.
    n_samples : int
        Samples per output beat.
    mode : str
        ``"midpoint"`` (RR-midpoint boundaries, the prototype's) or ``"window"`` (``pre_s`` before to
        ``post_s`` after each R-peak).
    pre_s, post_s : float
        Window extent in seconds before and after R, for ``mode="window"``.

    Returns
    -------
    beats : np.ndarray
        Shape ``(n_beats, leads, n_samples)``, float32.
    info : dict
        ``mode``, ``fs``, ``bounds`` (``(n_beats, 2)`` int64: start and stop sample, stop exclusive),
        ``r_peaks`` (the R-peak of each beat returned) and ``r_position`` (``(n_beats,)`` float: where R
        falls in each resampled beat, in output samples).
    """
    if mode not in _MODES:
        raise CardioScreenError(f"unknown beat mode {mode!r}; known modes: {', '.join(_MODES)}")
    if not fs > 0:
        raise CardioScreenError(f"sampling rate must be positive, got {fs}")
    if n_samples < 2:
        raise CardioScreenError(f"n_samples must be at least 2, got {n_samples}")
    if not (pre_s > 0 and post_s > 0):
        raise CardioScreenError(f"window extents must be positive, got pre_s={pre_s}, post_s={post_s}")
    x = np.atleast_2d(np.asarray(sig, dtype=np.float32))
    n = x.shape[-1]
    peaks = np.asarray(r_peaks, dtype=np.int64).ravel()
    if len(peaks) and (peaks[0] < 0 or peaks[-1] >= n or np.any(np.diff(peaks) <= 0)):
        raise CardioScreenError("r_peaks must be sorted, unique sample indices inside the signal")
    starts, stops, keep = _MODES[mode](peaks, n, float(fs), pre_s, post_s)
    length = (stops - starts).astype(np.float64)
    pos = starts[:, None] + length[:, None] * (np.arange(n_samples) / n_samples)[None, :]
    left = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    frac = (pos - left).astype(np.float32)
    right = np.minimum(left + 1, n - 1)
    beats = x[:, left] * (1 - frac) + x[:, right] * frac
    kept = peaks[keep]
    info: dict[str, Any] = {
        "mode": mode,
        "fs": float(fs),
        "bounds": np.stack([starts, stops], axis=1).astype(np.int64).reshape(-1, 2),
        "r_peaks": kept,
        "r_position": (kept - starts) * n_samples / np.maximum(length, 1),
    }
    logger.debug("%d beats (%s) of %d samples from %d leads", len(kept), mode, n_samples, x.shape[0])
    return np.ascontiguousarray(beats.transpose(1, 0, 2), dtype=np.float32), info
