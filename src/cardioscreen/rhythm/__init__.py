"""Rhythm analysis: sinus rhythms, atrial fibrillation and flutter, SVT, paced, junctional rhythms, ectopic beats
and, on long records, episodes with their start and end.

``ecg_rhythm(signal, fs, leads)`` returns a :class:`RhythmResult`; see :mod:`cardioscreen.rhythm.analysis`.
"""

from cardioscreen.rhythm.analysis import ecg_rhythm
from cardioscreen.rhythm.result import Ectopy, Episode, RhythmResult

__all__ = ["Ectopy", "Episode", "RhythmResult", "ecg_rhythm"]
