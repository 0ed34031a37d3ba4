"""Names and helpers shared by the delineation methods."""

from __future__ import annotations

import numpy as np

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
