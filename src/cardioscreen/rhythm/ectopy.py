"""Premature beats: ventricular (QRS unlike the dominant one) and supraventricular (dominant QRS), and their
bigeminal / trigeminal patterns."""

from __future__ import annotations

import re

import numpy as np

from cardioscreen.rhythm.beats import BeatTable
from cardioscreen.rhythm.features import ECTOPIC_CORR
from cardioscreen.rhythm.result import Ectopy

__all__ = ["PATTERNS", "classify_beats", "count_ectopy"]

PATTERNS: dict[str, re.Pattern[str]] = {
    "BIGU": re.compile("(?:NE){3,}"),
    "TRIGU": re.compile("(?:NNE){3,}"),
}
"""Pattern code -> run of beat labels (``N`` normal, ``E`` ectopic) that names it, tried in this order."""
WIDE_QRS_MS = 40.0
"""A premature beat whose QRS is this much wider than the record's median is ventricular, whatever its shape."""


def classify_beats(table: BeatTable, organised: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which beats are PVCs and which PACs.

    A premature beat (:attr:`BeatTable.premature`) in an organised stretch (not atrial fibrillation or
    flutter, where every RR is random) is a PVC when its QRS is unlike the dominant one (correlation below
    :data:`~cardioscreen.rhythm.features.ECTOPIC_CORR`) or much wider, else a PAC. Paced beats are neither.

    Parameters
    ----------
    table : BeatTable
        The record's beats.
    organised : np.ndarray
        ``(n_beats,)`` bool: the beat lies in a stretch whose rhythm has an organised atrial activity.

    Returns
    -------
    pvc, pac : np.ndarray
        ``(n_beats,)`` bool each.
    """
    wide = table.qrs_ms > np.nanmedian(table.qrs_ms) + WIDE_QRS_MS if np.isfinite(table.qrs_ms).any() \
        else np.zeros(table.n_beats, dtype=bool)
    other = (table.qrs_corr < ECTOPIC_CORR) | wide
    early = table.premature & organised & ~table.v_spike
    return early & other, early & ~other


def count_ectopy(table: BeatTable, organised: np.ndarray) -> Ectopy:
    """PVC and PAC counts of a record and the pattern they form (see :func:`classify_beats`)."""
    pvc, pac = classify_beats(table, organised)
    labels = "".join(np.where(pvc | pac, "E", "N"))
    pattern = next((code for code, regex in PATTERNS.items() if regex.search(labels)), None)
    return Ectopy(pvc=int(pvc.sum()), pac=int(pac.sum()), pattern=pattern)
