"""Per-lead amplitudes of a record in mV: R, S, Q, ST at J + 60 ms, T, the QRS shape of each lead, and the
voltage indices (Sokolow-Lyon, Cornell).

``ecg_morphology(signal_mV, fs, leads, delineation)`` returns a :class:`Morphology`; it measures the record's raw
millivolts (never a z-scored model input), on the median beat of its normal beats.
"""

from cardioscreen.signal.morphology.measure import FEATURE_FIELDS, Morphology, ecg_morphology
from cardioscreen.signal.morphology.waves import LeadWaves

__all__ = ["FEATURE_FIELDS", "LeadWaves", "Morphology", "ecg_morphology"]
