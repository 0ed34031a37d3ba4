"""A record's morphology: the waves of every lead's median complex and the voltage indices built from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.signal.delineate import Delineation
from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX
from cardioscreen.signal.morphology.template import median_beat
from cardioscreen.signal.morphology.waves import LeadWaves, lead_waves

__all__ = ["FEATURE_FIELDS", "Morphology", "ecg_morphology"]

FEATURE_FIELDS = ("q_mv", "q_ms", "r_mv", "r_ms", "r_prime_mv", "s_mv", "s_ms", "r_peak_time_ms", "notched",
                  "terminal_mv", "qrs_pp_mv", "st_j_mv", "st60_mv", "t_mv")
"""Per-lead measurements in :meth:`Morphology.feature_vector`, one column per standard lead each."""


@dataclass(frozen=True)
class Morphology:
    """Amplitude measurements of one record.

    Attributes
    ----------
    leads : dict
        Lead name -> :class:`LeadWaves` (mV, ms) of that lead's median complex.
    n_beats : int
        Normal beats the median complexes are taken over (0: nothing measured).
    qrs_global_ms : float or None
        Global QRS duration (ms): from the onset to the offset of the QRS over the leads, as the AHA criteria
        define it (see :attr:`~cardioscreen.signal.morphology.template.MedianBeat.qrs_global`); the intervals'
        ``qrs_ms`` is the median over the leads, which a terminal delay seen in a few leads, as in RBBB, does not
        move.
    sokolow_lyon_mv : float or None
        S in V1 + the larger R of V5 and V6 (mV); None without those leads.
    cornell_mv : float or None
        R in aVL + S in V3 (mV); None without those leads.
    """

    leads: dict[str, LeadWaves] = field(default_factory=dict)
    n_beats: int = 0
    qrs_global_ms: float | None = None
    sokolow_lyon_mv: float | None = None
    cornell_mv: float | None = None

    def __getitem__(self, lead: str) -> LeadWaves | None:
        """The measurements of ``lead``, or None where it was not measured."""
        return self.leads.get(lead)

    def to_dict(self) -> dict[str, Any]:
        """``{"n_beats", "qrs_global_ms", "sokolow_lyon_mv", "cornell_mv", "leads": {lead: LeadWaves.to_dict()}}``."""
        def rounded(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {"n_beats": self.n_beats, "qrs_global_ms": rounded(self.qrs_global_ms),
                "sokolow_lyon_mv": rounded(self.sokolow_lyon_mv),
                "cornell_mv": rounded(self.cornell_mv), "leads": {k: v.to_dict() for k, v in self.leads.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Morphology:
        """The inverse of :meth:`to_dict` (an empty mapping gives an empty Morphology)."""
        return cls(leads={k: LeadWaves(**v) for k, v in (data.get("leads") or {}).items()},
                   n_beats=int(data.get("n_beats", 0)), qrs_global_ms=data.get("qrs_global_ms"),
                   sokolow_lyon_mv=data.get("sokolow_lyon_mv"),
                   cornell_mv=data.get("cornell_mv"))

    def feature_vector(self) -> tuple[list[str], np.ndarray]:
        """Named columns for a classifier: every :data:`FEATURE_FIELDS` entry of every standard lead
        (``"V1_r_mv"``...), then ``qrs_global_ms``, ``sokolow_lyon_mv`` and ``cornell_mv``; NaN where not
        measured.

        Returns
        -------
        names : list of str
            ``12 * len(FEATURE_FIELDS) + 3`` column names, always in this order.
        values : np.ndarray
            Shape ``(len(names),)``, float64.
        """
        names = [f"{lead}_{name}" for lead in STANDARD_LEADS for name in FEATURE_FIELDS]
        values = [float(getattr(self.leads[lead], name)) if lead in self.leads else np.nan
                  for lead in STANDARD_LEADS for name in FEATURE_FIELDS]
        indices = (self.qrs_global_ms, self.sokolow_lyon_mv, self.cornell_mv)
        return names + ["qrs_global_ms", "sokolow_lyon_mv", "cornell_mv"], np.array(
            values + [np.nan if v is None else v for v in indices], dtype=float)


def _index(leads: dict[str, LeadWaves], terms: Sequence[tuple[str, Sequence[str]]]) -> float | None:
    """Sum over ``terms`` of ``(wave, leads)``: the largest ``wave`` amplitude among those leads."""
    total = 0.0
    for wave, names in terms:
        if not all(n in leads for n in names):
            return None
        total += max(float(getattr(leads[n], wave)) for n in names)
    return total


def ecg_morphology(signal_mV: np.ndarray, fs: float, leads: Sequence[str], delineation: Delineation, *,
                   beats: np.ndarray | None = None, lead_mask: np.ndarray | None = None,
                   powerline_hz: float = 50.0) -> Morphology:
    """Measure the per-lead amplitudes of a record.

    Parameters
    ----------
    signal_mV : np.ndarray
        Shape ``(leads, samples)``, the record's own millivolts (not cleaned, not normalised).
    fs : float
        Sampling rate in Hz.
    leads : sequence of str
        Lead names, one per row.
    delineation : Delineation
        The record's wave boundaries (:attr:`cardioscreen.signal.intervals.Intervals.delineation`).
    beats : np.ndarray, optional
        Shape ``(n_beats,)``, bool: the beats to measure on (the intervals' ``normal_beats``, so that ectopic
        beats stay out); every delineated beat when omitted.
    lead_mask : np.ndarray, optional
        Shape ``(leads,)``, bool: the leads whose QRS marks count for the global QRS duration (the usable leads
        of the quality check); all when omitted.
    powerline_hz : float
        Mains frequency (50 or 60 Hz).

    Returns
    -------
    Morphology
        Empty (``n_beats == 0``) when no beat could be measured.
    """
    x = np.atleast_2d(np.asarray(signal_mV, dtype=float))
    names = tuple(leads)
    if len(names) != x.shape[0]:
        raise CardioScreenError(f"{len(names)} lead names for a signal of shape {x.shape}")
    beat = median_beat(x, fs, delineation, beats, lead_mask=lead_mask, powerline_hz=powerline_hz)
    if beat is None:
        return Morphology()
    f = beat.fiducials
    # each lead's QRS spans its own marks and the multi-lead ones: a lead's own offset can fall inside a slow
    # terminal S (RBBB), the multi-lead one before a lead's late R' (its J point, for the ST level, is the later)
    on = np.fmin(beat.per_lead[:, FIDUCIAL_INDEX["qrs_on"]], f["qrs_on"])
    off = np.fmax(beat.per_lead[:, FIDUCIAL_INDEX["qrs_off"]], f["qrs_off"])
    measured = {name: lead_waves(beat.signal[i], fs, on[i], off[i], f["t_off"]) for i, name in enumerate(names)}
    duration = beat.qrs_global[1] - beat.qrs_global[0]
    return Morphology(
        leads=measured, n_beats=beat.n_beats,
        qrs_global_ms=float(duration) * 1000.0 / fs if np.isfinite(duration) else None,
        sokolow_lyon_mv=_index(measured, (("s_mv", ("V1",)), ("r_mv", ("V5", "V6")))),
        cornell_mv=_index(measured, (("r_mv", ("aVL",)), ("s_mv", ("V3",)))),
    )
