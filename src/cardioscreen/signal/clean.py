"""ECG cleaning: baseline wander, powerline interference and high-frequency noise removed in one zero-phase pass.

Every method is a band of Butterworth sections (plus a powerline notch) applied forward and backward, in the
frequency domain (:func:`cardioscreen.signal.spectral.zero_phase`: the response of ``scipy.signal.sosfiltfilt`` in
steady state, without its edge transients), along the last axis, so all leads are filtered at once and the waves
keep their timing. The record's spectrum is shared with the other filters an analysis asks of the same signal (the
delineation's band-passes, the diagnostic cleaning of the amplitudes). Filter designs are cached per
``(fs, method, powerline_hz)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal as sps

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.spectral import zero_phase

logger = logging.getLogger(__name__)

__all__ = ["CleanBand", "ecg_clean", "clean_methods"]

_NOTCH_Q = 30.0
"""Quality factor of the powerline notch: -3 dB width = f0 / Q (about 1.7 Hz at 50 Hz)."""


@dataclass(frozen=True)
class CleanBand:
    """A cleaning method: pass band in Hz and Butterworth order (doubled by the zero-phase pass).

    ``high_hz=None`` means no low-pass; the low-pass corner is capped at 45 % of the sampling rate.
    """

    low_hz: float
    high_hz: float | None
    order: int = 2
    notch: bool = True

    def __post_init__(self) -> None:
        if not self.low_hz > 0:
            raise CardioScreenError(f"high-pass corner must be > 0 Hz, got {self.low_hz}")
        if self.high_hz is not None and self.high_hz <= self.low_hz:
            raise CardioScreenError(f"low-pass corner {self.high_hz} Hz must exceed the high-pass {self.low_hz} Hz")
        if not 1 <= self.order <= 8:
            raise CardioScreenError(f"filter order must be 1-8, got {self.order}")


_METHODS: dict[str, CleanBand] = {
    # 0.5-40 Hz: the usual band for rhythm and morphology analysis by machine (removes EMG and most powerline).
    "default": CleanBand(0.5, 40.0),
    # AHA diagnostic bandwidth: keeps ST segments (0.05 Hz) and QRS notches (150 Hz).
    "diagnostic": CleanBand(0.05, 150.0),
    # Baseline and powerline only: the prototype's neurokit2 cleaning (0.5 Hz high-pass, 50 Hz) without its
    # moving-average powerline smoother.
    "baseline": CleanBand(0.5, None),
}


def clean_methods() -> tuple[str, ...]:
    """Names accepted by :func:`ecg_clean`'s ``method``."""
    return (*_METHODS, "neurokit")


@lru_cache(maxsize=64)
def _design(fs: float, method: str, powerline_hz: float) -> np.ndarray:
    """Second-order sections for ``method`` at ``fs`` Hz (high-pass, optional low-pass, optional notch)."""
    band = _METHODS[method]
    nyquist = fs / 2
    sections = [sps.butter(band.order, band.low_hz, btype="highpass", fs=fs, output="sos")]
    if band.high_hz is not None and band.high_hz < 0.9 * nyquist:
        sections.append(sps.butter(band.order, min(band.high_hz, 0.45 * fs), btype="lowpass", fs=fs, output="sos"))
    if band.notch and powerline_hz < 0.95 * nyquist:
        b, a = sps.iirnotch(powerline_hz, _NOTCH_Q, fs=fs)
        sections.append(sps.tf2sos(b, a))
    sos = np.vstack(sections)
    logger.debug("cleaning %s at %g Hz: %d sections", method, fs, len(sos))
    sos.setflags(write=False)
    return sos


def _neurokit_clean(sig: np.ndarray, fs: float, powerline_hz: float) -> np.ndarray:
    import neurokit2 as nk

    return np.stack([nk.ecg_clean(lead, sampling_rate=int(round(fs)), method="neurokit", powerline=powerline_hz)
                     for lead in sig])


def ecg_clean(sig: np.ndarray, fs: float, method: str = "default", powerline_hz: float = 50.0) -> np.ndarray:
    """Remove baseline wander, powerline interference and high-frequency noise.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)`` (or ``(samples,)`` for one lead), millivolts.
    fs : float
        Sampling rate in Hz.
    method : str
        ``"default"`` (0.5-40 Hz), ``"diagnostic"`` (0.05-150 Hz), ``"baseline"`` (0.5 Hz high-pass only)
        -- each with a notch at ``powerline_hz`` when it lies inside the pass band -- or ``"neurokit"``
        (neurokit2's ``ecg_clean`` lead by lead, for comparison).
    powerline_hz : float
        Mains frequency in Hz, 50 or 60.

    Returns
    -------
    np.ndarray
        Same shape as ``sig``, float32, millivolts.
    """
    if method not in (*_METHODS, "neurokit"):
        raise CardioScreenError(f"unknown cleaning method {method!r}; known methods: {', '.join(clean_methods())}")
    if not fs > 0:
        raise CardioScreenError(f"sampling rate must be positive, got {fs}")
    if powerline_hz not in (50.0, 60.0):
        raise CardioScreenError(f"powerline frequency must be 50 or 60 Hz, got {powerline_hz}")
    x = np.asarray(sig, dtype=np.float64)
    one_lead = x.ndim == 1
    x2 = np.atleast_2d(x)
    if x2.ndim != 2:
        raise CardioScreenError(f"signal must be (leads, samples), got shape {x.shape}")
    if method == "neurokit":
        out = _neurokit_clean(x2, float(fs), powerline_hz)
    else:
        out = zero_phase(x2, float(fs), _design(float(fs), method, float(powerline_hz)))
    out = np.array(out, dtype=np.float32)
    return out[0] if one_lead else out
