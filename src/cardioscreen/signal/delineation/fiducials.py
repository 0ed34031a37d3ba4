"""Names and helpers shared by the delineation methods."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FIDUCIALS = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_off")
"""Fiducial points per beat, in this order along the last axis of every delineation array."""
N_FIDUCIALS = len(FIDUCIALS)
FIDUCIAL_INDEX = {name: i for i, name in enumerate(FIDUCIALS)}


def nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` along ``axis`` (NaN for all-NaN slices, no warning), by one sort.

    Equal to numpy's result; numpy's own ``nanmedian`` goes through masked arrays on small inputs and is many
    times slower on the ``(beats, leads, 7)`` arrays of a record.
    """
    v = np.sort(np.asarray(values, dtype=float), axis=axis)
    if v.shape[axis] == 0:
        return np.full(np.delete(v.shape, axis), np.nan)
    n = (~np.isnan(v)).sum(axis=axis, keepdims=True)
    lo = np.take_along_axis(v, np.maximum(n - 1, 0) // 2, axis=axis)
    hi = np.take_along_axis(v, n // 2, axis=axis)
    out = np.where(n > 0, (lo + hi) / 2, np.nan)
    return np.asarray(np.squeeze(out, axis=axis), dtype=float)


def median(values: np.ndarray, axis: int) -> np.ndarray:
    """``np.median`` along ``axis`` (NaN where a slice holds one), by one sort.

    Equal to numpy's result, its dtype (float32 stays float32) and memory layout (which later reductions over it
    follow); on the short axes here (a record's beats, a few samples) sorting costs a fraction of the partition
    ``np.median`` runs per slice.
    """
    v = np.asarray(values)
    v = np.sort(v if v.dtype.kind == "f" else v.astype(float), axis=axis)
    n = v.shape[axis]
    if n == 0:
        return np.full(np.delete(v.shape, axis), np.nan, dtype=v.dtype)
    lo, hi, last = (v[(slice(None),) * (axis % v.ndim) + (i,)] for i in ((n - 1) // 2, n // 2, n - 1))
    middle = (lo + hi) / 2
    if np.ndim(middle) == 0:
        return middle.dtype.type(np.nan) if np.isnan(last) else middle
    np.copyto(middle, np.nan, where=np.isnan(last))
    return middle


def cut_windows(x: np.ndarray, first: np.ndarray, width: int) -> np.ndarray:
    """Windows of ``x`` (leads, samples) starting at ``first`` (beats,) -> ``(beats, leads, width)``, a new array.

    Samples before the start or past the end of ``x`` take the value of its first or last sample. The windows
    are copied out of a strided view (one contiguous copy per window), several times faster than a gather by
    index arrays.
    """
    n = x.shape[-1]
    lo_pad = max(0, -int(first.min(initial=0)))
    hi_pad = max(0, int(first.max(initial=0)) + width - n)
    if lo_pad or hi_pad:
        x = np.concatenate([np.repeat(x[:, :1], lo_pad, axis=1), x, np.repeat(x[:, -1:], hi_pad, axis=1)], axis=1)
    view = sliding_window_view(x, width, axis=-1)[:, np.asarray(first, dtype=np.int64) + lo_pad]
    return np.ascontiguousarray(view.transpose(1, 0, 2))
