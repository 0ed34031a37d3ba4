"""ECG delineation: P, QRS and T boundaries per beat on every lead, and one robust multi-lead value per beat.

``ecg_delineate(sig, fs, r_peaks)`` returns a :class:`Delineation`. The per-lead marks come from a method of
:data:`_METHODS`; the multi-lead fiducial of each beat combines the usable leads by a rule of
:data:`_COMBINE` (the median by default: on LUDB it matches the cardiologists' reference best, see
``bench/delineation.py``), so that one lead's error does not move it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.delineation.dsp import delineate_dsp
from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX, FIDUCIALS, N_FIDUCIALS, nanmedian
from cardioscreen.signal.delineation.hybrid import delineate_hybrid
from cardioscreen.signal.delineation.learned import delineate_unet

__all__ = ["FIDUCIALS", "Delineation", "combine_methods", "delineate_methods", "ecg_delineate"]

MIN_LEADS = 3
"""Least number of leads with a mark for a multi-lead fiducial (all leads when fewer are usable)."""

_METHODS: dict[str, Callable[..., tuple[np.ndarray, dict[str, Any]]]] = {
    "dsp": delineate_dsp,
    "unet": delineate_unet,
    "hybrid": delineate_hybrid,
}


def _combine_median(marks: np.ndarray) -> np.ndarray:
    return nanmedian(marks, axis=1)


def _combine_extent(marks: np.ndarray) -> np.ndarray:
    """Earliest onset / latest offset (median for peaks) among the leads within 3 MADs of the median."""
    med = nanmedian(marks, axis=1)
    mad = nanmedian(np.abs(marks - med[:, None, :]), axis=1)
    inlier = np.abs(marks - med[:, None, :]) <= 3 * np.maximum(mad, 1.0)[:, None, :]
    kept = np.where(inlier, marks, np.nan)
    out = med.copy()
    onsets = [FIDUCIAL_INDEX[n] for n in FIDUCIALS if n.endswith("_on")]
    offsets = [FIDUCIAL_INDEX[n] for n in FIDUCIALS if n.endswith("_off")]
    valid = np.asarray(np.isfinite(kept).any(axis=1))
    earliest = np.min(np.where(np.isfinite(kept), kept, np.inf), axis=1)
    latest = np.max(np.where(np.isfinite(kept), kept, -np.inf), axis=1)
    out[:, onsets] = np.where(valid[:, onsets], earliest[:, onsets], np.nan)
    out[:, offsets] = np.where(valid[:, offsets], latest[:, offsets], np.nan)
    return out


_COMBINE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "median": _combine_median,
    "extent": _combine_extent,
}


def delineate_methods() -> tuple[str, ...]:
    """Names accepted by ``ecg_delineate(method=...)``."""
    return tuple(_METHODS)


def combine_methods() -> tuple[str, ...]:
    """Names accepted by ``ecg_delineate(combine=...)``."""
    return tuple(_COMBINE)


@dataclass(frozen=True, eq=False)
class Delineation:
    """Wave boundaries of one record.

    Attributes
    ----------
    fs : float
        Sampling rate in Hz of the indices below.
    r_peaks : np.ndarray
        Shape ``(n_beats,)``, int64 R-peak sample indices the beats are built on.
    per_lead : np.ndarray
        Shape ``(n_beats, n_leads, 7)``, float sample indices (NaN where absent), last axis in
        :data:`FIDUCIALS` order: P onset, P peak, P offset, QRS onset, QRS offset, T peak, T offset.
    fiducials : np.ndarray
        Shape ``(n_beats, 7)``: the multi-lead value per beat (NaN where too few leads have a mark).
    method, combine : str
        The per-lead method and the rule combining leads.
    pacing_spikes : np.ndarray
        Sample indices of the pacing spikes found (empty for an unpaced record).
    """

    fs: float
    r_peaks: np.ndarray
    per_lead: np.ndarray
    fiducials: np.ndarray
    method: str
    combine: str
    pacing_spikes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __getitem__(self, name: str) -> np.ndarray:
        """Multi-lead sample indices of one fiducial, shape ``(n_beats,)``; e.g. ``d["qrs_on"]``."""
        if name not in FIDUCIAL_INDEX:
            raise KeyError(f"unknown fiducial {name!r}; expected one of {list(FIDUCIALS)}")
        return self.fiducials[:, FIDUCIAL_INDEX[name]]

    @property
    def n_beats(self) -> int:
        return int(self.r_peaks.size)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready multi-lead fiducials: name -> list of sample indices (None where absent)."""
        return {
            "fs": self.fs,
            "method": self.method,
            "r_peaks": [int(v) for v in self.r_peaks],
            **{n: [None if not np.isfinite(v) else int(v) for v in self[n]] for n in FIDUCIALS},
        }


def ecg_delineate(
    sig: np.ndarray,
    fs: float,
    r_peaks: np.ndarray,
    method: str = "dsp",
    *,
    combine: str = "median",
    lead_mask: np.ndarray | None = None,
    method_options: Mapping[str, Any] | None = None,
) -> Delineation:
    """Delineate P, QRS and T waves of every beat on every lead.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(leads, samples)``, mV (raw or cleaned; the method filters as it needs).
    fs : float
        Sampling rate in Hz.
    r_peaks : np.ndarray
        Shape ``(n_beats,)``, R-peak sample indices (e.g. from :func:`cardioscreen.signal.peaks.ecg_peaks`).
    method : str
        Per-lead delineator, a key of :func:`delineate_methods`: ``"dsp"`` (slope envelopes and the
        trapezium method, any leads), ``"unet"`` (the shipped U-Net) or ``"hybrid"`` (U-Net P wave, DSP
        QRS and T); the last two need the 12 standard leads in order.
    combine : str
        Rule for the multi-lead fiducial, a key of :func:`combine_methods`.
    lead_mask : np.ndarray, optional
        Shape ``(leads,)``, bool: leads allowed into the multi-lead fiducial (e.g. the usable leads of
        :func:`cardioscreen.signal.quality.ecg_quality`); all leads when omitted.
    method_options : mapping, optional
        Keyword arguments of the method: ``cfg`` (a ``DSPConfig``) for ``"dsp"``, ``model_path`` (other
        weights) for ``"unet"`` and ``"hybrid"``.

    Returns
    -------
    Delineation
    """
    if method not in _METHODS:
        raise CardioScreenError(f"unknown delineation method {method!r}; expected one of {list(_METHODS)}")
    if combine not in _COMBINE:
        raise CardioScreenError(f"unknown lead combination {combine!r}; expected one of {list(_COMBINE)}")
    x = np.atleast_2d(np.asarray(sig, dtype=float))
    r = np.asarray(r_peaks, dtype=np.int64).ravel()
    if r.size and (r.min() < 0 or r.max() >= x.shape[-1] or np.any(np.diff(r) <= 0)):
        raise CardioScreenError("r_peaks must be increasing sample indices inside the signal")
    mask = np.ones(x.shape[0], dtype=bool) if lead_mask is None else np.asarray(lead_mask, dtype=bool)
    if mask.shape != (x.shape[0],):
        raise CardioScreenError(f"lead_mask has shape {mask.shape}; expected ({x.shape[0]},)")
    per_lead, info = _METHODS[method](x, float(fs), r, **dict(method_options or {}))
    # A boundary on (or past) the record's first or last sample is where the search ran out of record: the wave is
    # cut by the record's start or end on that lead, so neither it nor the beat's multi-lead boundary was seen.
    cut = (per_lead <= 0) | (per_lead >= x.shape[-1] - 1)
    per_lead = np.where(cut, np.nan, per_lead)
    used = per_lead[:, mask, :] if mask.any() else per_lead[:, :0, :]
    fiducials = _COMBINE[combine](used) if used.shape[1] else np.full((r.size, N_FIDUCIALS), np.nan)
    enough = np.isfinite(used).sum(axis=1) >= min(MIN_LEADS, max(int(mask.sum()), 1))
    fiducials = np.where(enough & ~cut[:, mask, :].any(axis=1), fiducials, np.nan)
    return Delineation(
        fs=float(fs),
        r_peaks=r,
        per_lead=per_lead,
        fiducials=fiducials,
        method=method,
        combine=combine,
        pacing_spikes=np.asarray(info.get("pacing_spikes", np.zeros(0)), dtype=np.int64),
    )
