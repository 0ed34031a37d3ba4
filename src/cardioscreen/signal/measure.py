"""One measurement per record: the cleaned signal, R-peaks, quality, intervals and amplitudes every output shows.

``analyze``, ``cardioscreen intervals``, the report and the web page all call :func:`measure_record`, so that a
record has one answer. R-peaks and intervals are measured on the record's own (raw) millivolts, which the peak
detector and the delineation band-pass as they need and on which both were tuned: delineating the 0.5-40 Hz cleaned
signal filtered it twice and widened the spread of QRS durations against LUDB's cardiologists from 9.2 to 11.8 ms SD
(``bench/delineation.py``, "through measure_record"). The cleaned signal serves the quality check's limb-lead test,
plots and the model input; the amplitudes are measured on the raw millivolts too, on the intervals' normal beats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cardioscreen.record import ECGRecord
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.intervals import Intervals, ecg_intervals
from cardioscreen.signal.morphology import Morphology, ecg_morphology
from cardioscreen.signal.peaks import ecg_peaks
from cardioscreen.signal.quality import QualityReport, ecg_quality

__all__ = ["RecordMeasurements", "measure_record"]


@dataclass(frozen=True, eq=False)
class RecordMeasurements:
    """Everything measured on one record before any model runs.

    Attributes
    ----------
    fs : float
        Sampling rate in Hz of every array below.
    leads : tuple of str
        Lead names, one per row of the signals.
    clean : np.ndarray
        Shape ``(leads, samples)``, mV: the record after :func:`cardioscreen.signal.clean.ecg_clean`.
    r_peaks : np.ndarray
        Shape ``(n_beats,)``, int64 R-peak sample indices.
    peak_info : dict
        The detector's side information (per-lead QRS contrast, ...), as :func:`ecg_peaks` returns it.
    quality : QualityReport
        Per-lead and record quality verdict.
    intervals : Intervals
        Heart rate, PR, QRS, QT/QTc, axes and flags (values ``None`` with reasons on an unusable record).
    morphology : Morphology
        Per-lead R, S, Q, ST and T amplitudes and the voltage indices (empty where nothing was delineated).
    """

    fs: float
    leads: tuple[str, ...]
    clean: np.ndarray = field(repr=False)
    r_peaks: np.ndarray
    peak_info: dict[str, Any] = field(repr=False)
    quality: QualityReport
    intervals: Intervals
    morphology: Morphology


def measure_record(record: ECGRecord, *, powerline_hz: float = 50.0) -> RecordMeasurements:
    """Clean, detect R-peaks, check quality and measure the intervals and amplitudes of one record.

    Parameters
    ----------
    record : ECGRecord
        The record, preferably as its 12 standard leads (``record.to_standard12()``; the intervals then use the
        hybrid delineation, other lead sets the DSP one). Signal ``(leads, samples)`` in mV; ``meta["sex"]``, when
        present, sets the QTc limit.
    powerline_hz : float
        Mains frequency (50 or 60 Hz) notched out of the cleaned signal.

    Returns
    -------
    RecordMeasurements
    """
    raw, fs = record.signal, float(record.fs)
    clean = ecg_clean(raw, fs, powerline_hz=powerline_hz)
    r_peaks, peak_info = ecg_peaks(raw, fs)
    quality = ecg_quality(raw, fs, record.leads, peaks=(r_peaks, peak_info), cleaned=clean)
    intervals = ecg_intervals(raw, fs, r_peaks, record.leads, sex=record.meta.get("sex"), quality=quality)
    morphology = Morphology() if intervals.delineation is None else ecg_morphology(
        raw, fs, record.leads, intervals.delineation, beats=intervals.normal_beats,
        lead_mask=np.array([n in quality.usable_leads for n in record.leads]), powerline_hz=powerline_hz)
    return RecordMeasurements(fs=fs, leads=tuple(record.leads), clean=clean, r_peaks=np.asarray(r_peaks),
                              peak_info=peak_info, quality=quality, intervals=intervals, morphology=morphology)
