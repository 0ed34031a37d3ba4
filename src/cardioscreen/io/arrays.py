"""Records from bare numeric arrays (NumPy and MATLAB files): which axis holds the leads, the sampling rate and the
lead names when the file does not say.

Such files carry no header, so the signal is taken to be in mV, a ``samples x leads`` array is transposed when only
its second axis can be a lead count (e.g. ``(5000, 12)``), the rate defaults to 500 Hz with a warning (the
prototype's uploads, and CPSC 2019's files, are 500 Hz) and 12 rows are the standard leads in standard order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.record import MAX_LEADS

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_FS_HZ", "default_lead_names", "leads_by_samples", "rate_or_default", "stored_number"]

DEFAULT_FS_HZ = 500.0
"""Rate assumed when neither the file nor the caller gives one."""


def leads_by_samples(array: np.ndarray, where: str) -> np.ndarray:
    """``array`` as ``(leads, samples)``: leading length-1 axes dropped, a ``(samples, leads)`` array transposed
    when that is the only reading."""
    if array.dtype.kind not in "iuf":
        raise ECGFormatError(f"{where}: signal array holds {array.dtype} values, not numbers")
    squeezed = array
    while squeezed.ndim > 2 and squeezed.shape[0] == 1:
        squeezed = squeezed[0]
    if squeezed.ndim != 2:
        raise ECGFormatError(f"{where}: expected a 2-D array (leads x samples), got shape {array.shape}")
    rows, cols = squeezed.shape
    if rows > MAX_LEADS >= cols:
        logger.info("%s: transposing a (samples, leads) array of shape %s", where, squeezed.shape)
        return squeezed.T
    if rows > MAX_LEADS:
        raise ECGFormatError(f"{where}: shape {squeezed.shape} has no axis of at most {MAX_LEADS} leads")
    return squeezed


def stored_number(value: np.ndarray, name: str, where: str) -> float:
    """The one number a file stores under ``name`` (e.g. its sampling rate)."""
    if value.size != 1 or value.dtype.kind not in "iuf":
        raise ECGFormatError(f"{where}: stored {name} must be one number, got shape {value.shape}")
    return float(value.ravel()[0])


def rate_or_default(fs: float | None, where: str) -> float:
    """``fs``, or :data:`DEFAULT_FS_HZ` with a warning when neither the caller nor the file gave a rate."""
    if fs is None:
        logger.warning("%s: no sampling rate given or stored; assuming %g Hz", where, DEFAULT_FS_HZ)
        return DEFAULT_FS_HZ
    return float(fs)


def default_lead_names(n_leads: int, given: Sequence[str] | None = None) -> tuple[str, ...]:
    """``given`` names, else the standard leads for 12 rows, else ``lead1``, ``lead2``..."""
    if given is not None:
        return tuple(str(name) for name in given)
    return STANDARD_LEADS if n_leads == 12 else tuple(f"lead{i + 1}" for i in range(n_leads))
