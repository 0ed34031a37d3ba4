"""Hybrid delineator: P wave from the U-Net, QRS and T from the derivative delineator.

On LUDB (5-fold cross-validation, ``bench/delineation.py``) the U-Net finds P boundaries far closer to the
cardiologists' marks than the derivative method, which in turn is steadier on QRS boundaries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cardioscreen.signal.delineation.dsp import delineate_dsp
from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX
from cardioscreen.signal.delineation.learned import delineate_unet

P_COLUMNS = [FIDUCIAL_INDEX[name] for name in ("p_on", "p_peak", "p_off")]


def merge_p_wave(dsp: np.ndarray, unet: np.ndarray) -> np.ndarray:
    """``dsp`` fiducials ``(..., 7)`` with the P-wave columns taken from ``unet``."""
    out = np.array(dsp, copy=True)
    out[..., P_COLUMNS] = unet[..., P_COLUMNS]
    return out


def delineate_hybrid(
    sig: np.ndarray, fs: float, r_peaks: np.ndarray, model_path: str | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-beat, per-lead fiducials ``(n_beats, 12, 7)``: U-Net P wave, DSP QRS and T (12 standard leads)."""
    unet, meta = delineate_unet(sig, fs, r_peaks, model_path=model_path, t_wave=False)
    dsp, info = delineate_dsp(sig, fs, r_peaks, p_wave=False)
    return merge_p_wave(dsp, unet), {**info, "model": meta["model"]}
