"""Cardiologists' wave marks of LUDB (Lobachevsky University ECG database) as per-beat fiducial arrays.

LUDB gives, for each of the 12 leads, an annotation file (extension = lowercase lead name) with the onset
``(``, peak (``p``, ``N``, ``t``) and offset ``)`` of every P, QRS and T wave its cardiologists marked.
The multi-lead reference of a beat is the median of its marks over the leads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardioscreen.signal.delineation.fiducials import FIDUCIALS, N_FIDUCIALS, nanmedian

LUDB_LEAD_EXTENSIONS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
"""Annotation file extensions of LUDB, in the standard lead order I, II, III, aVR, aVL, aVF, V1-V6."""

_WAVE_SYMBOLS = {"p": "p", "N": "qrs", "t": "t"}


def _lead_waves(samples: np.ndarray, symbols: list[str]) -> dict[str, np.ndarray]:
    """Per wave kind, rows ``(onset, peak, offset)`` (NaN where the bracket is missing)."""
    out: dict[str, list[tuple[float, float, float]]] = {"p": [], "qrs": [], "t": []}
    for i, sym in enumerate(symbols):
        wave = _WAVE_SYMBOLS.get(sym)
        if wave is None:
            continue
        onset = float(samples[i - 1]) if i > 0 and symbols[i - 1] == "(" else np.nan
        offset = float(samples[i + 1]) if i + 1 < len(symbols) and symbols[i + 1] == ")" else np.nan
        out[wave].append((onset, float(samples[i]), offset))
    return {k: np.asarray(v, dtype=float).reshape(-1, 3) for k, v in out.items()}


def read_ludb_marks(record_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one LUDB record's marks on all 12 leads, grouped into beats.

    Parameters
    ----------
    record_path : path-like
        The record without extension, e.g. ``.../ludb/1``.

    Returns
    -------
    per_lead : np.ndarray
        Shape ``(n_beats, 12, 7)``, float sample indices in the order of :data:`FIDUCIALS`, NaN where a lead
        has no mark. Beats are the QRS complexes marked on any lead (grouped within 100 ms), in time order.
    reference : np.ndarray
        Shape ``(n_beats, 7)``: per beat, the median over leads of each fiducial.
    """
    import wfdb

    leads = []
    for ext in LUDB_LEAD_EXTENSIONS:
        ann = wfdb.rdann(str(record_path), ext)
        leads.append(_lead_waves(np.asarray(ann.sample), list(ann.symbol)))
    qrs_peaks = np.sort(np.concatenate([w["qrs"][:, 1] for w in leads]))
    if qrs_peaks.size == 0:
        return np.full((0, 12, N_FIDUCIALS), np.nan), np.full((0, N_FIDUCIALS), np.nan)
    groups = np.concatenate([[0], np.cumsum(np.diff(qrs_peaks) > 50)])
    centres = np.array([np.median(qrs_peaks[groups == g]) for g in range(groups[-1] + 1)])
    per_lead = np.full((centres.size, 12, N_FIDUCIALS), np.nan)
    idx = {name: i for i, name in enumerate(FIDUCIALS)}
    for li, waves in enumerate(leads):
        for row in waves["qrs"]:
            b = int(np.argmin(np.abs(centres - row[1])))
            per_lead[b, li, idx["qrs_on"]] = row[0]
            per_lead[b, li, idx["qrs_off"]] = row[2]
        for row in waves["p"]:
            b = int(np.searchsorted(centres, row[1]))
            if b < centres.size:
                per_lead[b, li, [idx["p_on"], idx["p_peak"], idx["p_off"]]] = row
        for row in waves["t"]:
            b = int(np.searchsorted(centres, row[1])) - 1
            if b >= 0:
                per_lead[b, li, idx["t_peak"]] = row[1]
                per_lead[b, li, idx["t_off"]] = row[2]
    return per_lead, nanmedian(per_lead, axis=1)
