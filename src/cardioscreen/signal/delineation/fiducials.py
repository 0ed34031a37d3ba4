"""Names and helpers shared by the delineation methods."""

from __future__ import annotations

import warnings

import numpy as np

FIDUCIALS = ("p_on", "p_peak", "p_off", "qrs_on", "qrs_off", "t_peak", "t_off")
"""Fiducial points per beat, in this order along the last axis of every delineation array."""
N_FIDUCIALS = len(FIDUCIALS)
FIDUCIAL_INDEX = {name: i for i, name in enumerate(FIDUCIALS)}


def nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` that returns NaN for all-NaN slices without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(values, axis=axis), dtype=float)
